#!/usr/bin/env bash
# Checks the observability files of the example stack with the real tools:
#   promtool check config / check rules / test rules, amtool check-config, every Grafana dashboard
#   query parsed by promtool plus the offline dashboard checks, shellcheck on the rendered obs-*
#   payloads, and - when the Kafka libs and the JMX agent are in .cache/artifacts - a real KRaft
#   Kafka node with the agent and our rule set: every JMX metric the dashboards and alerts use is
#   exported, and the scrape time is measured.
# Needs: promtool (apt: prometheus), amtool (apt: prometheus-alertmanager), shellcheck, java 17
# for the Kafka part.
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"

fail() {
  echo "check-observability: $*" >&2
  exit 1
}

for tool in promtool amtool shellcheck; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing (apt-get install prometheus prometheus-alertmanager shellcheck)"
done

work="$(mktemp -d)"
kafka_pid=""
cleanup() {
  if [[ -n "$kafka_pid" ]]; then
    kill "$kafka_pid" 2>/dev/null || true
    wait "$kafka_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

out="$work/rendered"
ts-node scripts/ci/render-observability.ts "$out"

echo "--- prometheus.yml (rules resolved from the rendered directory)"
rules_glob="/etc/prometheus/rules/"
config="$(cat "$out/prometheus/prometheus.yml")"
printf '%s\n' "${config//"$rules_glob"/"$out/prometheus/rules/"}" >"$out/prometheus/check.yml"
promtool check config "$out/prometheus/check.yml"

echo "--- alert rules and their unit tests"
promtool check rules "$out/prometheus/rules/pve-ha.rules.yml"
(cd "$out/prometheus" && promtool test rules rules.test.yml)

echo "--- alertmanager.yml"
amtool check-config "$out/alertmanager/alertmanager.yml"

echo "--- Grafana dashboards: every query parsed by promtool, offline checks"
promtool check rules "$out/grafana/dashboard-expressions.rules.yml"
validation="$(cat "$out/grafana/validation.txt")"
[[ "$validation" == "ok" ]] || fail "dashboard problems:"$'\n'"$validation"
for dashboard in "$out"/grafana/dashboards/*.json; do
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$dashboard"
done
echo "dashboards: $(find "$out/grafana/dashboards" -name '*.json' | wc -l) valid"

echo "--- shellcheck on the rendered obs-* payloads"
shellcheck "$out"/payloads/*.sh
echo "payloads: $(find "$out/payloads" -name '*.sh' | wc -l) clean"

libs="$root/.cache/artifacts/kafka/kafka/libs"
agent="$root/.cache/artifacts/jmx_prometheus_javaagent-1.0.1.jar"
if [[ ! -d "$libs" || ! -s "$agent" ]]; then
  echo "--- JMX agent check: not run (build the artifacts first: scripts/artifacts/all.sh)"
  exit 0
fi
command -v java >/dev/null || fail "java is missing (apt-get install openjdk-17-jre-headless)"

echo "--- JMX agent 1.0.1 with our rule set on a real KRaft Kafka node"
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
broker_port="$(free_port)"
controller_port="$(free_port)"
jmx_port="$(free_port)"
mkdir -p "$work/kafka/data"
cat >"$work/kafka/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$broker_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$broker_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$work/kafka/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
EOF
cluster_id="$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid)"
java -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster_id" \
  -c "$work/kafka/server.properties" >/dev/null
java -Xmx384m -javaagent:"$agent=127.0.0.1:$jmx_port:$out/kafka/jmx-exporter.yml" \
  -cp "$libs/*" kafka.Kafka "$work/kafka/server.properties" >"$work/kafka/kafka.log" 2>&1 &
kafka_pid=$!

metrics=""
for _ in $(seq 1 90); do
  kill -0 "$kafka_pid" 2>/dev/null || fail "kafka exited: $(tail -n 5 "$work/kafka/kafka.log")"
  metrics="$(curl -fsS "http://127.0.0.1:$jmx_port/metrics" 2>/dev/null || true)"
  grep -q '^kafka_controller_kafkacontroller_activecontrollercount 1' <<<"$metrics" && break
  sleep 1
done
grep -q '^kafka_controller_kafkacontroller_activecontrollercount 1' <<<"$metrics" ||
  fail "kafka did not elect itself controller within 90 s"

expected="$(ts-node -e '
  const { EXPORTER_METRICS } = require("./components/render/observability/exporterMetrics");
  console.log(EXPORTER_METRICS["kafka-jmx"].join("\n"));
')"
missing=()
while read -r name; do
  grep -q "^${name}[ {]" <<<"$metrics" || missing+=("$name")
done <<<"$expected"
((${#missing[@]} == 0)) || fail "JMX agent does not export: ${missing[*]}"
echo "jmx: all $(wc -l <<<"$expected") listed metrics exported"

durations=()
for _ in $(seq 1 20); do
  durations+=("$(curl -fsS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$jmx_port/metrics")")
done
p99="$(printf '%s\n' "${durations[@]}" | sort -n | tail -n 1)"
series="$(grep -vc '^#' <<<"$metrics")"
echo "jmx: $series series, max of 20 scrapes ${p99}s"
awk -v t="$p99" 'BEGIN { exit !(t < 0.150) }' || fail "JMX scrape took ${p99}s (limit 0.150 s)"
echo "check-observability: ok"

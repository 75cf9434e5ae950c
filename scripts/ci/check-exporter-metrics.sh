#!/usr/bin/env bash
# Runs the stack's real exporters on loopback with the rendered settings (their flags as rendered)
# and checks that each exports every metric name EXPORTER_METRICS lists for it, so dashboards and
# alerts only use names that exist; measures each scrape; starts Prometheus and Alertmanager with
# the rendered configuration and checks that every alert rule is loaded.
#   Exporters: node_exporter, postgres_exporter (against a PostgreSQL 15 primary + streaming
#   standby), nginx exporter (against nginx stub_status), HAProxy's built-in exporter, the app's
#   registry, the JMX agent on a KRaft Kafka node; kafka_exporter when its binary was built.
# Usage: check-exporter-metrics.sh <dir written by render-observability.ts>
# Needs (apt): prometheus prometheus-alertmanager prometheus-node-exporter
#   prometheus-postgres-exporter prometheus-nginx-exporter postgresql-15 nginx haproxy
#   openjdk-17-jre-headless curl; the Kafka libs and JMX agent from scripts/artifacts/all.sh.
set -Eeuo pipefail

out="${1:?usage: check-exporter-metrics.sh <rendered-dir>}"
out="$(cd "$out" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="$root/node_modules/.bin:$PATH"
readonly PG_BIN=/usr/lib/postgresql/15/bin
readonly ARTIFACTS="$root/.cache/artifacts"

fail() {
  echo "check-exporter-metrics: $*" >&2
  exit 1
}

for tool in prometheus-node-exporter prometheus-postgres-exporter prometheus-nginx-exporter \
  prometheus prometheus-alertmanager nginx haproxy java curl "$PG_BIN/initdb"; do
  command -v "$tool" >/dev/null || fail "$tool is missing (see the header for the apt packages)"
done
[[ -d "$ARTIFACTS/kafka/kafka/libs" && -s "$ARTIFACTS/jmx_prometheus_javaagent-1.0.1.jar" ]] ||
  fail "Kafka libs / JMX agent missing: run scripts/artifacts/all.sh first"

work="$(mktemp -d)"
chmod 0755 "$work"
pids=()
pg_dirs=()
cleanup() {
  local pid dir
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for dir in "${pg_dirs[@]}"; do as_postgres "$PG_BIN/pg_ctl" -D "$dir" stop -m immediate >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

as_postgres() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# start <name> <command...>: runs a server in the background, output in $work/<name>.log.
start() {
  local name="$1"
  shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_for <url> <seconds> [grep-pattern]: until the URL answers (and contains the pattern).
wait_for() {
  local url="$1" timeout="$2" pattern="${3:-}" body
  for _ in $(seq 1 "$timeout"); do
    if body="$(curl -fsS "$url" 2>/dev/null)" && { [[ -z "$pattern" ]] || grep -q "$pattern" <<<"$body"; }; then
      return 0
    fi
    sleep 1
  done
  fail "$url did not answer${pattern:+ with $pattern} within ${timeout}s"
}

sample_names() {
  grep -v '^#' | sed -E 's/[{ ].*//' | sed '/^$/d' | sort -u
}

# expect_job <job> <file of exported names>: every listed name of <job> must be exported.
expect_job() {
  local job="$1" names="$2" missing=() name listed=0
  while read -r listed_job name; do
    [[ "$listed_job" == "$job" ]] || continue
    listed=$((listed + 1))
    grep -qx "$name" "$names" || missing+=("$name")
  done <"$out/exporter-metrics.txt"
  ((${#missing[@]} == 0)) || fail "$job does not export: ${missing[*]}"
  printf '%-12s all %2d listed metrics exported (%d names in total)\n' "$job" "$listed" "$(wc -l <"$names")"
}

# scrape_time <job> <url>: slowest of 10 scrapes.
scrape_time() {
  local slowest
  slowest="$(for _ in $(seq 1 10); do curl -fsS -o /dev/null -w '%{time_total}\n' "$2"; done | sort -n | tail -n 1)"
  printf '%-12s slowest of 10 scrapes: %s s\n' "$1" "$slowest"
}

# rendered_var <defaults file> <name>: a variable of a rendered /etc/default file.
rendered_var() {
  (
    # shellcheck disable=SC1090
    source "$1"
    printf '%s\n' "${!2}"
  )
}

# rendered_args <defaults file>: the ARGS the Debian unit would pass.
rendered_args() {
  rendered_var "$1" ARGS
}

check_url() {
  local job="$1" url="$2"
  curl -fsS "$url" | sample_names >"$work/$job.names"
  expect_job "$job" "$work/$job.names"
  scrape_time "$job" "$url"
}

echo "--- node_exporter"
port="$(free_port)"
args="$(rendered_args "$out/defaults/prometheus-node-exporter")"
# The textfile an LB node's keepalived writes, rendered beside the config, instead of this host's.
args="$(sed -E "s#--collector.textfile.directory=[^ ]+#--collector.textfile.directory=$out/node-exporter-textfile#" <<<"$args")"
read -ra argv <<<"${args//:9100/127.0.0.1:$port}"
start node-exporter prometheus-node-exporter "${argv[@]}"
wait_for "http://127.0.0.1:$port/metrics" 30
check_url node "http://127.0.0.1:$port/metrics"

echo "--- postgres_exporter on a PostgreSQL 15 primary and streaming standby"
sock="$work/pg-socket"
mkdir -p "$sock" "$work/pg"
((EUID != 0)) || chown postgres "$sock" "$work/pg"
primary_port="$(free_port)"
standby_port="$(free_port)"
as_postgres "$PG_BIN/initdb" -D "$work/pg/primary" -A trust >/dev/null
echo "host replication all 127.0.0.1/32 trust" >>"$work/pg/primary/pg_hba.conf"
pg_dirs+=("$work/pg/primary")
as_postgres "$PG_BIN/pg_ctl" -D "$work/pg/primary" -l "$work/pg/primary.log" -w \
  -o "-p $primary_port -k $sock -c listen_addresses=127.0.0.1" start >/dev/null
psql_primary() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$primary_port" -d postgres "$@"; }
# The rendered role SQL twice: it must be idempotent.
psql_primary <"$out/postgres/exporter-role.sql"
psql_primary <"$out/postgres/exporter-role.sql"
psql_primary -c "SELECT pg_create_physical_replication_slot('standby1')" >/dev/null
as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -D "$work/pg/standby" \
  -X stream -S standby1 -R -c fast
pg_dirs+=("$work/pg/standby")
as_postgres "$PG_BIN/pg_ctl" -D "$work/pg/standby" -l "$work/pg/standby.log" -w \
  -o "-p $standby_port -k $sock" start >/dev/null
: >"$work/postgres.names"
for pg_port in "$primary_port" "$standby_port"; do
  port="$(free_port)"
  args="$(rendered_args "$out/defaults/prometheus-postgres-exporter")"
  args="${args//:9187/127.0.0.1:$port}"
  args="${args//\/etc\/prometheus\/postgres-exporter-queries.yml/$out/postgres/exporter-queries.yml}"
  dsn="$(rendered_var "$out/defaults/prometheus-postgres-exporter" DATA_SOURCE_NAME)"
  dsn="${dsn//host=\/run\/postgresql/host=$sock port=$pg_port}"
  read -ra argv <<<"$args"
  DATA_SOURCE_NAME="$dsn" start "pg-exporter-$pg_port" prometheus-postgres-exporter "${argv[@]}"
  wait_for "http://127.0.0.1:$port/metrics" 30 '^pg_up 1'
  [[ "$pg_port" == "$primary_port" ]] &&
    wait_for "http://127.0.0.1:$port/metrics" 30 'pg_stat_replication_pg_wal_lsn_diff{.*state="streaming"'
  [[ "$pg_port" == "$standby_port" ]] &&
    wait_for "http://127.0.0.1:$port/metrics" 30 '^pg_replica_wal_receiver_streaming[{ ].* 1$'
  # Every query of ours runs without error on this server (primary and standby alike).
  body="$(curl -fsS "http://127.0.0.1:$port/metrics")"
  grep -q '^pg_exporter_last_scrape_error 0$' <<<"$body" ||
    fail "postgres_exporter on port $pg_port: last scrape had an error: $(grep '^pg_exporter_last_scrape_error' <<<"$body")"
  grep -q '^pg_exporter_user_queries_load_error{.*} 0$' <<<"$body" ||
    fail "postgres_exporter on port $pg_port: the queries file did not load"
  sample_names <<<"$body" >>"$work/postgres.names"
  scrape_time "postgres" "http://127.0.0.1:$port/metrics"
done
sort -u -o "$work/postgres.names" "$work/postgres.names"
expect_job postgres "$work/postgres.names"

echo "--- nginx exporter on nginx stub_status"
stub_port="$(free_port)"
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:$stub_port;
    location = /stub_status { stub_status; }
  }
}
EOF
start nginx nginx -p "$work/nginx/" -c "$work/nginx/nginx.conf" -g 'daemon off;'
wait_for "http://127.0.0.1:$stub_port/stub_status" 30 'Active connections'
port="$(free_port)"
args="$(rendered_args "$out/defaults/prometheus-nginx-exporter")"
args="${args//http:\/\/127.0.0.1:8081/http://127.0.0.1:$stub_port}"
read -ra argv <<<"${args//:9113/127.0.0.1:$port}"
start nginx-exporter prometheus-nginx-exporter "${argv[@]}"
wait_for "http://127.0.0.1:$port/metrics" 30 '^nginx_up 1'
check_url nginx "http://127.0.0.1:$port/metrics"

echo "--- HAProxy built-in exporter"
port="$(free_port)"
cat >"$work/haproxy.cfg" <<EOF
defaults
  mode tcp
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend stats
  mode http
  bind 127.0.0.1:$port
  http-request use-service prometheus-exporter if { path /metrics }
listen pg_read_write
  bind 127.0.0.1:$(free_port)
  server pg1 127.0.0.1:$primary_port check
EOF
start haproxy haproxy -f "$work/haproxy.cfg"
wait_for "http://127.0.0.1:$port/metrics" 30 'haproxy_server_status'
check_url haproxy "http://127.0.0.1:$port/metrics"

echo "--- app registry (app/src/metrics.ts)"
(
  cd "$root/app"
  ts-node -T -e '
    const { createMetrics } = require("./src/metrics");
    // A pool stand-in: the metrics only read its three counters.
    const pool = { totalCount: 0, idleCount: 0, waitingCount: 0 };
    createMetrics("ci", pool).registry.getMetricsAsJSON().then((all) => {
      for (const m of all) {
        const suffixes = m.type === "histogram" ? ["_bucket", "_count", "_sum"] : [""];
        for (const s of suffixes) console.log(m.name + s);
      }
    });
  '
) | sort -u >"$work/app.names"
expect_job app "$work/app.names"

echo "--- JMX agent 1.0.1 with the rendered rules on a KRaft Kafka node"
libs="$ARTIFACTS/kafka/kafka/libs"
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
start kafka java -Xmx384m \
  -javaagent:"$ARTIFACTS/jmx_prometheus_javaagent-1.0.1.jar=127.0.0.1:$jmx_port:$out/kafka/jmx-exporter.yml" \
  -cp "$libs/*" kafka.Kafka "$work/kafka/server.properties"
wait_for "http://127.0.0.1:$jmx_port/metrics" 90 '^kafka_controller_kafkacontroller_activecontrollercount 1'
# The raft metrics' MBean can appear a moment after the controller is active.
wait_for "http://127.0.0.1:$jmx_port/metrics" 30 '^kafka_server_raft_metrics_current_leader '
check_url kafka-jmx "http://127.0.0.1:$jmx_port/metrics"

if [[ -x "$ARTIFACTS/kafka_exporter" ]]; then
  echo "--- kafka_exporter"
  port="$(free_port)"
  start kafka-exporter "$ARTIFACTS/kafka_exporter" "--kafka.server=127.0.0.1:$broker_port" \
    --kafka.version=3.6.0 "--web.listen-address=127.0.0.1:$port"
  wait_for "http://127.0.0.1:$port/metrics" 60 '^kafka_brokers 1'
  check_url kafka "http://127.0.0.1:$port/metrics"
else
  echo "--- kafka_exporter: NOT verified ($ARTIFACTS/kafka_exporter was not built)"
fi

echo "--- Prometheus and Alertmanager with the rendered configuration"
am_port="$(free_port)"
args="$(rendered_args "$out/defaults/prometheus-alertmanager")"
read -ra argv <<<"${args//:9093/127.0.0.1:$am_port}"
start alertmanager prometheus-alertmanager "${argv[@]}" \
  --config.file="$out/alertmanager/alertmanager.yml" --storage.path="$work/alertmanager"
wait_for "http://127.0.0.1:$am_port/-/ready" 30
prom_port="$(free_port)"
args="$(rendered_args "$out/defaults/prometheus")"
read -ra argv <<<"${args//:9090/127.0.0.1:$prom_port}"
start prometheus prometheus "${argv[@]}" --config.file="$out/prometheus/prometheus.check.yml" \
  --storage.tsdb.path="$work/tsdb"
wait_for "http://127.0.0.1:$prom_port/-/ready" 60
expected_rules="$(grep -c '^ *- alert:' "$out/prometheus/rules/pve-ha.rules.yml")"
loaded_rules="$(curl -fsS "http://127.0.0.1:$prom_port/api/v1/rules?type=alert" | grep -o '"type":"alerting"' | wc -l)"
((loaded_rules == expected_rules)) ||
  fail "Prometheus loaded $loaded_rules alert rules, the rendered file has $expected_rules"
echo "prometheus   started with the rendered config, $loaded_rules alert rules loaded"
echo "alertmanager started with the rendered config"
echo "check-exporter-metrics: ok"

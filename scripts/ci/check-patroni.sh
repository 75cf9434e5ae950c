#!/usr/bin/env bash
# Automatic failover's configs as rendered (render/etcd.ts, render/patroni.ts, render/haproxy.ts
# with patroniChecks), run for real in a network namespace of its own (this host's ports and
# services untouched): a 3-member etcd cluster from the rendered env files on 127.0.0.11-13, all
# members healthy; `patroni --validate-config` on the rendered patroni.yml; one Patroni node
# bootstrapping PostgreSQL 15 against that etcd, /primary 200 and data checksums on; HAProxy with
# the rendered config marking it UP in pg_primary; pg-app-setup's SQL (twice: idempotent) on the
# leader Patroni bootstrapped, with the roles Patroni created; /metrics names the alerts use.
# Then patroni-configure's own dynamic-configuration functions: unchanged after the bootstrap; a
# change (ttl, synchronous_mode, a reloaded and a restart-only parameter) applied, shown by
# show-config and GET /config, reported as pending a restart, then unchanged; the REST API's
# unsafe endpoints 401 without or with wrong credentials, 200 with them; a drifted key set back;
# `patronictl restart --pending` with the credentials of the yml; a removed parameter removed.
# Stops all it started, by PID. check-rendered.sh (npm run test:tools) runs it.
# Usage: check-patroni.sh [out-dir of scripts/ci/render-patroni.ts; rendered into a temp dir if
# absent]. Needs root, unshare, setpriv, runuser, curl, python3 (+ PyYAML, with patroni), etcd +
# etcdctl (etcd-server, etcd-client), patroni, postgresql-15, haproxy; installs nothing.
set -Eeuo pipefail

cd "$(dirname "$0")/../.."
for tool in unshare setpriv runuser curl python3 etcd etcdctl haproxy \
  /usr/lib/postgresql/15/bin/postgres; do
  command -v "$tool" >/dev/null || {
    echo "check-patroni: $tool is missing (apt-get install etcd-server etcd-client patroni postgresql-15 haproxy)" >&2
    exit 1
  }
done

out="${1:-}"
if [[ -z "$out" ]]; then
  out=$(mktemp -d /tmp/check-patroni.XXXXXX)
  trap 'rm -rf "$out"' EXIT
  npx ts-node scripts/ci/render-patroni.ts "$out" >&2
fi
for f in etcd-etcd1.env etcd-etcd2.env etcd-etcd3.env patroni.yml dynamic.yml dynamic-changed.yml \
  rest-auth haproxy.cfg app-setup.sql app-database; do
  [[ -f "$out/$f" ]] || {
    echo "check-patroni: no $out/$f (render with scripts/ci/render-patroni.ts)" >&2
    exit 1
  }
done
# Patroni as the containers run it: PyPI's wheel (fetched if absent) with Debian's python3 and the
# dependencies of Debian's patroni package.
wheel=$(bash scripts/artifacts/fetch-patroni.sh)
rm -rf "$out/patroni-home"
python3 -m zipfile -e "$wheel" "$out/patroni-home"
chmod -R a+rX "$out/patroni-home" "$out/bin"
want=$(sed -n 's/^export const PATRONI_VERSION = "\([0-9.]*\)";$/\1/p' components/render/patroniRelease.ts)
got=$("$out/bin/patroni" --version)
[[ "$got" == *" $want" ]] || { echo "check-patroni: $out/bin/patroni says '$got', not $want" >&2; exit 1; }
echo "check-patroni: Patroni $want from the wheel"
# Patroni and PostgreSQL run as postgres: the data directory is theirs.
chmod 0755 "$out"
mkdir -p "$out/pg"
chown -R postgres:postgres "$out/pg"
chown postgres:postgres "$out/patroni.yml" "$out/app-setup.sql"

# shellcheck disable=SC2016 # expanded by the inner bash
timeout 300 unshare --net bash -c '
set -Eeuo pipefail
out="$1"
fail() { echo "check-patroni: FAILED: $*" >&2; exit 1; }
ip link set lo up

pids=()
cleanup() {
  # In list order, each gone before the next: HAProxy, Patroni (on SIGTERM it stops
  # PostgreSQL, then gives up the leader key in etcd), then the etcd members.
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap "exit 1" INT TERM

rest=$(sed -n "s/^  connect_address: \"\(127[0-9.]*:[0-9]*\)\"$/\1/p" "$out/patroni.yml" | head -1)
endpoints=$(sed -n "s/^    - \"\(127[0-9.]*:[0-9]*\)\"$/http:\/\/\1/p" "$out/patroni.yml" | paste -sd,)
[[ -n "$rest" && -n "$endpoints" ]] || fail "no REST API or etcd hosts in patroni.yml"

start_etcd() {
  for env in "$out"/etcd-*.env; do
    env -i PATH="$PATH" bash -c "set -a; . \"$env\"; exec etcd" >"${env%.env}.log" 2>&1 &
    etcd_pids+=($!)
  done
}
etcd_pids=()
start_etcd
pids=("${etcd_pids[@]}")

healthy=""
for _ in $(seq 100); do
  if healthy=$(ETCDCTL_API=3 etcdctl --endpoints="$endpoints" --command-timeout=2s endpoint health 2>&1); then
    break
  fi
  sleep 0.3
done
echo "$healthy"
[[ $(grep -c "is healthy" <<<"$healthy") -eq 3 ]] || fail "not all 3 etcd members are healthy: $healthy $(tail -n 5 "$out"/etcd-*.log)"

# The witness'"'"'s leader keeper (the last member'"'"'s): etcd'"'"'s leader moves to it.
"$out/etcd-leader-keeper" >"$out/keeper.log" 2>&1 &
keeper=$!
witness=${endpoints##*,}
leads=""
for _ in $(seq 50); do
  leads=$(ETCDCTL_API=3 etcdctl --endpoints="$witness" --command-timeout=2s endpoint status 2>/dev/null | awk -F", " "{ print \$5 }")
  [[ "$leads" == true ]] && break
  sleep 0.3
done
kill "$keeper"
wait "$keeper" 2>/dev/null || true
[[ "$leads" == true ]] || fail "the leader keeper did not move the etcd leader to $witness: $(cat "$out/keeper.log")"
echo "check-patroni: etcd leader kept on the witness ($witness): $(head -c 200 "$out/keeper.log")"
echo "check-patroni: etcd: 3 of 3 members healthy"

# Patroni 3.0.2 validates the file and the environment: etcd reachable, ports free, bin_dir.
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups --reset-env "$@"; }
as_postgres "$out/bin/patroni" --validate-config "$out/patroni.yml" || fail "patroni --validate-config refused patroni.yml"
echo "check-patroni: patroni --validate-config: valid"

# setpriv execs Patroni: $! is Patroni itself, which a SIGTERM stops with its PostgreSQL.
setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
  "$out/bin/patroni" "$out/patroni.yml" >"$out/patroni.log" 2>&1 &
pids=($! "${etcd_pids[@]}")
code=""
for _ in $(seq 120); do
  code=$(curl -s -o /dev/null -w "%{http_code}" "http://$rest/primary" || true)
  [[ "$code" == 200 ]] && break
  sleep 0.5
done
[[ "$code" == 200 ]] || fail "/primary answered ${code:-nothing} after 60 s: $(tail -n 20 "$out/patroni.log")"
echo "check-patroni: Patroni bootstrapped the cluster: GET /primary 200"
replica=$(curl -s -o /dev/null -w "%{http_code}" "http://$rest/replica" || true)
[[ "$replica" == 503 ]] || fail "/replica on the primary answered $replica, not 503"

sock=$(sed -n "s/^    unix_socket_directories: \"\(.*\)\"$/\1/p" "$out/patroni.yml")
port=$(sed -n "s/^  listen: \"\*:\([0-9]*\)\"$/\1/p" "$out/patroni.yml")
checksums=$(as_postgres psql -h "$sock" -p "$port" -d postgres -XAtq -c "SHOW data_checksums")
[[ "$checksums" == on ]] || fail "data_checksums is $checksums"
echo "check-patroni: PostgreSQL: data_checksums on"

# pg-app-setup on the leader: Patroni made the superuser, replication and rewind roles.
for _ in 1 2; do
  as_postgres psql -h "$sock" -p "$port" -d postgres -XAtq -v ON_ERROR_STOP=1 \
    -v superuser_password=check-super -v replication_password=check-repl \
    -v app_password=check-app -f "$out/app-setup.sql" || fail "the app setup SQL failed"
done
database=$(cat "$out/app-database")
owner=$(as_postgres psql -h "$sock" -p "$port" -d postgres -XAtq -c \
  "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '"'"'$database'"'"'")
[[ -n "$owner" ]] || fail "no database $database after the app setup SQL"
slots=$(as_postgres psql -h "$sock" -p "$port" -d postgres -XAtq -c "SELECT count(*) FROM pg_replication_slots")
[[ "$slots" == 0 ]] || fail "the app setup SQL made a replication slot (Patroni keeps its own)"
echo "check-patroni: app setup SQL ran twice on the leader: database $database owned by $owner, no slot"

metrics=$(curl -s "http://$rest/metrics")
for name in patroni_primary patroni_replica patroni_postgres_timeline patroni_cluster_unlocked; do
  grep -q "^$name{scope=" <<<"$metrics" || fail "/metrics has no $name"
done
grep -q "^patroni_primary{scope=\"[^\"]*\"} 1$" <<<"$metrics" || fail "/metrics: patroni_primary is not 1 on the leader"
echo "check-patroni: /metrics: patroni_primary 1, the alerts'"'"' metric names present"

haproxy -f "$out/haproxy.cfg" -db >"$out/haproxy.log" 2>&1 &
pids=($! "${pids[@]}")
stats=$(sed -n "/^frontend stats/,\$ s/^  bind :\([0-9]*\)$/\1/p" "$out/haproxy.cfg")
state=""
for _ in $(seq 40); do
  state=$(curl -s "http://127.0.0.1:$stats/stats;csv" | awk -F, "\$1 == \"pg_primary\" && \$2 == \"pg1\" { print \$18 }" || true)
  [[ "$state" == UP ]] && break
  sleep 0.25
done
[[ "$state" == UP ]] || fail "HAProxy has pg1 ${state:-nowhere} in pg_primary: $(cat "$out/haproxy.log")"
echo "check-patroni: HAProxy: pg1 UP in pg_primary (OPTIONS /primary)"

# The dynamic configuration, applied by patroni-configure'"'"'s own functions (the part between its
# markers, with lib.sh) pointed at this node: unchanged after the bootstrap, then a change.
PAYLOAD_NAME=patroni-configure
# shellcheck source=/dev/null
source scripts/payloads/lib.sh
# shellcheck source=/dev/null
source <(sed -n "/^# --- dynamic configuration: begin/,/^# --- dynamic configuration: end ---\$/p" \
  scripts/payloads/patroni-configure.sh)
declare -F apply_dynamic_config >/dev/null || fail "patroni-configure.sh has no apply_dynamic_config between its markers"
PATRONICTL_BIN="$out/bin/patronictl"
CONFIG_PATH="$out/patroni.yml" DATA_DIR="$out/pg/data" NODE_NAME=pg1 DYNAMIC_TIMEOUT_SECONDS=60
SCOPE=$(sed -n "s/^scope: \"\(.*\)\"$/\1/p" "$out/patroni.yml") SELF_IP=${rest%:*} REST_PORT=${rest#*:}
export PGHOST="$sock" PGPORT="$port"
# psql_su and pg_query of lib.sh name the socket and port themselves.
PG_SOCKET_DIR="$sock" PG_PORT="$port"
# apply <dynamic file> <want>: runs apply_dynamic_config, its last line must be <want>.
apply() {
  local got
  DYNAMIC_PATH="$1"
  got=$(apply_dynamic_config 2>"$out/apply.log") || fail "apply_dynamic_config $1: $(cat "$out/apply.log")"
  [[ "$got" == "$2" ]] || fail "apply_dynamic_config $1: want \"$2\", got \"$got\" ($(cat "$out/apply.log"))"
}
# shown <expression>: a value of the cluster'"'"'s dynamic configuration as patronictl shows it.
shown() {
  patronictl_node show-config | python3 -c "import sys, yaml; c = yaml.safe_load(sys.stdin); p = c[\"postgresql\"][\"parameters\"]; print($1)"
}
apply "$out/dynamic.yml" "dynamic configuration unchanged; no restart pending"
echo "check-patroni: dynamic configuration after the bootstrap: unchanged (bootstrap.dcs is the same object)"
apply "$out/dynamic-changed.yml" "dynamic configuration changed; restart pending"
got=$(shown "c[\"ttl\"], c[\"synchronous_mode\"], p[\"work_mem\"], p[\"max_connections\"]")
[[ "$got" == "9 True 8MB 150" ]] || fail "show-config after the change: $got"
got=$(curl -s "http://$rest/config" | python3 -c "import json, sys; c = json.load(sys.stdin); print(c[\"ttl\"], c[\"synchronous_mode\"])")
[[ "$got" == "9 True" ]] || fail "GET /config after the change: $got"
got=$(as_postgres psql -h "$sock" -p "$port" -d postgres -XAtq -c "SHOW work_mem")
[[ "$got" == 8MB ]] || fail "work_mem is $got after the change (a reload should have applied it)"
got=$(as_postgres psql -h "$sock" -p "$port" -d postgres -XAtq -c "SELECT name FROM pg_settings WHERE pending_restart")
[[ "$got" == max_connections ]] || fail "pending_restart in pg_settings: ${got:-none}"
grep -q "patronictl -c $CONFIG_PATH restart $SCOPE --pending" "$out/apply.log" || fail "no restart advice: $(cat "$out/apply.log")"
apply "$out/dynamic-changed.yml" "dynamic configuration unchanged; restart pending"
echo "check-patroni: dynamic configuration changed (ttl 9, synchronous_mode, work_mem reloaded, max_connections pending a restart), then unchanged"

# REST API: unsafe endpoints need the credentials, GET stays open.
auth=$(cat "$out/rest-auth")
code() { curl -s -o /dev/null -w "%{http_code}" "$@"; }
for request in "-X PATCH -d {\"ttl\":11} http://$rest/config" "-X POST -d {} http://$rest/restart" \
  "-X POST -d {} http://$rest/reload"; do
  # shellcheck disable=SC2086 # the words of $request are curl'"'"'s arguments
  got=$(code $request)
  [[ "$got" == 401 ]] || fail "without credentials: $request answered $got, not 401"
  # shellcheck disable=SC2086
  got=$(code -u "${auth%%:*}:wrong" $request)
  [[ "$got" == 401 ]] || fail "with a wrong password: $request answered $got, not 401"
done
got=$(code -u "$auth" -X PATCH -d "{\"ttl\":11}" "http://$rest/config")
[[ "$got" == 200 ]] || fail "PATCH /config with the credentials answered $got"
[[ "$(shown "c[\"ttl\"]")" == 11 ]] || fail "PATCH /config with the credentials did not set ttl"
for path in primary health metrics config patroni; do
  [[ "$(code "http://$rest/$path")" == 200 ]] || fail "GET /$path is not open"
done
echo "check-patroni: REST API: PATCH /config, POST /restart, /reload 401 without or with wrong credentials; PATCH /config 200 with them; GET open"
apply "$out/dynamic-changed.yml" "dynamic configuration changed; restart pending"
[[ "$(shown "c[\"ttl\"]")" == 9 ]] || fail "the apply did not undo the PATCH of ttl"
# The advice the payload gives, with the credentials patronictl reads from the same file.
patronictl_node restart "$SCOPE" pg1 --pending --force >"$out/restart.log" 2>&1 \
  || fail "patronictl restart --pending: $(cat "$out/restart.log")"
for _ in $(seq 60); do
  got=$(as_postgres psql -h "$sock" -p "$port" -d postgres -XAtq -c "SHOW max_connections" 2>/dev/null || true)
  [[ "$got" == 150 ]] && break
  sleep 0.5
done
[[ "$got" == 150 ]] || fail "max_connections is ${got:-unknown} after patronictl restart --pending"
apply "$out/dynamic-changed.yml" "dynamic configuration unchanged; no restart pending"
echo "check-patroni: a drifted ttl set back; patronictl restart --pending (authenticated from the yml) applied max_connections 150"
apply "$out/dynamic.yml" "dynamic configuration changed; restart pending"
got=$(shown "c[\"ttl\"], c[\"synchronous_mode\"], \"work_mem\" in p, p[\"max_connections\"]")
first_ttl=$(sed -n "s/^ttl: //p" "$out/dynamic.yml")
[[ "$got" == "$first_ttl False False 200" ]] || fail "show-config after going back: $got"
echo "check-patroni: back to the first configuration: work_mem removed from the cluster, ttl $first_ttl"
' check-patroni "$out"
echo "check-patroni: ok"

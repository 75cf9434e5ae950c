#!/usr/bin/env bash
# Automatic failover's configs as rendered (render/etcd.ts, render/patroni.ts, render/haproxy.ts
# with patroniChecks), run for real in a network namespace of its own (this host's ports and
# services untouched): a 3-member etcd cluster from the rendered env files on 127.0.0.11-13, all
# members healthy; `patroni --validate-config` on the rendered patroni.yml; one Patroni node
# bootstrapping PostgreSQL 15 against that etcd, /primary 200 and data checksums on; HAProxy with
# the rendered config marking it UP in pg_primary; pg-app-setup's SQL (twice: idempotent) on the
# leader Patroni bootstrapped, with the roles Patroni created; /metrics names the alerts use.
# Stops all it started, by PID. Runs on its own (check-rendered.sh only shellchecks pgFailover
# auto's payloads: its hosts need not have etcd and Patroni).
# Usage: check-patroni.sh [out-dir of scripts/ci/render-patroni.ts; rendered into a temp dir if
# absent]. Needs root, unshare, setpriv, curl, etcd + etcdctl (etcd-server, etcd-client),
# patroni, postgresql-15, haproxy; installs nothing.
set -Eeuo pipefail

cd "$(dirname "$0")/../.."
for tool in unshare setpriv curl etcd etcdctl patroni haproxy /usr/lib/postgresql/15/bin/postgres; do
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
for f in etcd-etcd1.env etcd-etcd2.env etcd-etcd3.env patroni.yml haproxy.cfg app-setup.sql app-database; do
  [[ -f "$out/$f" ]] || {
    echo "check-patroni: no $out/$f (render with scripts/ci/render-patroni.ts)" >&2
    exit 1
  }
done
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
echo "check-patroni: etcd: 3 of 3 members healthy"

# Patroni 3.0.2 validates the file and the environment: etcd reachable, ports free, bin_dir.
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups --reset-env "$@"; }
as_postgres patroni --validate-config "$out/patroni.yml" || fail "patroni --validate-config refused patroni.yml"
echo "check-patroni: patroni --validate-config: valid"

# setpriv execs Patroni: $! is Patroni itself, which a SIGTERM stops with its PostgreSQL.
setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
  patroni "$out/patroni.yml" >"$out/patroni.log" 2>&1 &
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
echo "check-patroni: HAProxy: pg1 UP in pg_primary (GET /primary)"
' check-patroni "$out"
echo "check-patroni: ok"

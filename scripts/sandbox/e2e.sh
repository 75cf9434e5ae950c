#!/usr/bin/env bash
# End-to-end test of the stack in local LXC containers, in two phases; `down` at the end -- also
# when a step fails. Needs root, lxc and debootstrap; removes any sandbox that is already up.
# 1. The paper's layer (pgFailover manual): `up` (which ends with the status checks), the drills
#    1-8 and 10-13 (hard faults, LB-pair failovers, rolling day-2 changes, backups, the security
#    drill; scenario 6 shows writes refused until a human promotes), a warm re-run that must
#    change nothing, `status`.
# 2. The three-host example stack with the defaults (pgFailover auto): the PostgreSQL failover
#    drill (14: SIGKILL, stop, link down of the primary, 3 trials each, asynchronous), each host
#    lost in turn (9), the LB split (1), backups (12); then pgSynchronous on through a warm `up`
#    and scenario 14 again (1 trial each), `status`.
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"

sandbox() {
  npm run --silent sandbox -- "$@"
}

warm_log="$(mktemp)"
mem_log="$(mktemp)"
mem_pid=""

# Memory of the sandbox's containers (cgroup v2 memory.current or v1 usage_in_bytes), in MiB.
containers_mib() {
  local total=0 f v
  for f in /sys/fs/cgroup/lxc.payload.*/memory.current \
    /sys/fs/cgroup/memory/lxc.payload.*/memory.usage_in_bytes; do
    [[ -r "$f" ]] || continue
    v="$(cat "$f" 2>/dev/null || echo 0)"
    total=$((total + v))
  done
  echo $((total / 1048576))
}

# Every 5 s (at most 30 min): the host's available memory and the containers' memory.
sample_memory() {
  local i
  for ((i = 0; i < 360; i++)); do
    echo "$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo) $(containers_mib)"
    sleep 5
  done
}

stop_sampler() {
  if [[ -n "$mem_pid" ]]; then
    kill "$mem_pid" 2>/dev/null || true
    wait "$mem_pid" 2>/dev/null || true
    mem_pid=""
  fi
}

cleanup() {
  local rc=$?
  stop_sampler
  rm -f "$warm_log" "$mem_log"
  echo "==> e2e: down (exit status so far: $rc)"
  sandbox down || rc=1
  exit "$rc"
}
trap cleanup EXIT

# Start from nothing: a sandbox left over from an earlier run is removed first.
sandbox down
started=$SECONDS
# The README's newcomer command: installs what it needs, builds the artifacts, deploys.
readonly MANUAL=(--set pgFailover=manual)
bash scripts/up-sandbox.sh "${MANUAL[@]}"
echo "==> e2e: cold up took $((SECONDS - started)) s"
# The drills stop and restart nodes under load; the warm re-run and status after them show the
# stack came back whole (scenario 11's changes undo each other). The hard faults (8), the LB pair's
# failovers (10), the day-2 changes (11), backups (12) and the security drill (13: run last by the
# drill, ~1-2 min; it walks the exposure matrix from a scratch network namespace on the bridge,
# which it removes again) are part of it. Extra drill options: E2E_DRILL_ARGS
# (e.g. "--write-rate 20"; a later --scenarios replaces the list).
# shellcheck disable=SC2086 # the options are meant to split into words
npm run --silent drill -- --target sandbox --scenarios 1,2,3,4,5,6,7,8,10,11,12,13 \
  --out "${E2E_DRILL_OUT:-reports/drill}" ${E2E_DRILL_ARGS:-}
warm=$SECONDS
sandbox up "${MANUAL[@]}" | tee "$warm_log"
echo "==> e2e: warm re-run took $((SECONDS - warm)) s"
# A second `up` must change nothing.
grep -q "resources performed: 0," "$warm_log" || {
  echo "e2e: the warm re-run performed resources again" >&2
  exit 1
}
sandbox status

# Several Proxmox hosts: the three-host example stack (all its hosts are this machine) with
# automatic PostgreSQL failover: the primary's faults, each host lost in turn under the write
# load, the LB split over hosts, and a backup + restores with the repository on the host without
# a PostgreSQL node; then the failover drill once more with synchronous replication.
sandbox down
started=$SECONDS
sandbox up --stack three-hosts
echo "==> e2e: cold up of the three-host stack took $((SECONDS - started)) s"
sample_memory >"$mem_log" &
mem_pid=$!
started=$SECONDS
npm run --silent drill -- --target sandbox --scenarios 14,9,1,12 \
  --out "${E2E_DRILL_THREE_HOSTS_OUT:-reports/drill-three-hosts}"
echo "==> e2e: failover and host-loss drills, LB split and backups took $((SECONDS - started)) s"
stop_sampler
awk 'NR == 1 || $1 < lo { lo = $1 } $2 > hi { hi = $2 } END {
  printf "==> e2e: during the drill: host memory available min %d MiB, containers max %d MiB\n", lo, hi
}' "$mem_log"
sandbox status
started=$SECONDS
sandbox up --stack three-hosts --set pgSynchronous=true
npm run --silent drill -- --target sandbox --scenarios 14 --pg-failover-trials 1 \
  --out "${E2E_DRILL_SYNC_OUT:-reports/drill-three-hosts-sync}"
echo "==> e2e: synchronous replication and its failover drill took $((SECONDS - started)) s"
sandbox status
echo "e2e: passed"

#!/usr/bin/env bash
# The LB's upstream watch as rendered (render/upstreamWatch.ts), run for real in a network
# namespace of its own (this host's sockets and firewall untouched): a loopback listener stands in
# for an app node and a connection to it stands in for nginx's kept-alive one. While the node
# answers the watch leaves the connection alone; once an nft rule makes the node silent, the
# watch must end the connection within its bound and say so, and notice when the node answers
# again. Usage: check-upstream-watch.sh <rendered watch script>. Needs root, unshare, nft, node.
set -Eeuo pipefail

script="${1:?usage: check-upstream-watch.sh <rendered watch script>}"
[[ -f "$script" ]] || {
  echo "check-upstream-watch: no script $script" >&2
  exit 1
}

readonly HOST=127.0.0.2 PORT=39901 INTERVAL_S=0.100 TIMEOUT_S=0.100 FAILURES=2

# The rendered loop with this check's node and timings in place of the stack's.
watch=$(mktemp)
trap 'rm -f "$watch"' EXIT
sed -e "s/^readonly NAMES=(.*)$/readonly NAMES=(app)/" \
  -e "s/^readonly HOSTS=(.*)$/readonly HOSTS=($HOST)/" \
  -e "s/^readonly PORTS=(.*)$/readonly PORTS=($PORT)/" \
  -e "s/^readonly INTERVAL_S=.*$/readonly INTERVAL_S=$INTERVAL_S/" \
  -e "s/^readonly TIMEOUT_S=.*$/readonly TIMEOUT_S=$TIMEOUT_S/" \
  -e "s/^readonly FAILURES=.*$/readonly FAILURES=$FAILURES/" "$script" >"$watch"
for line in "NAMES=(app)" "HOSTS=($HOST)" "PORTS=($PORT)" "INTERVAL_S=$INTERVAL_S"; do
  grep -qxF "readonly $line" "$watch" || {
    echo "check-upstream-watch: the rendered script has no line for $line" >&2
    exit 1
  }
done

# shellcheck disable=SC2016 # expanded by the inner bash
timeout 60 unshare --net bash -c '
set -Eeuo pipefail
watch="$1" host="$2" port="$3"
fail() { echo "check-upstream-watch: FAILED: $*" >&2; exit 1; }
conns() { ss -t -n state established dst "$host" dport = ":$port" | tail -n +2 | wc -l; }
ip link set lo up
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT

node -e "require(\"net\").createServer((s) => s.on(\"error\", () => {})).listen($port, \"$host\")" &
pids+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break; sleep 0.1; done

# nginx'"'"'s kept-alive connection: held open by a sleeping process.
sleep 30 3<>"/dev/tcp/$host/$port" &
pids+=($!)
log=$(mktemp)
bash "$watch" >"$log" 2>&1 &
pids+=($!)

sleep 1
[[ "$(conns)" -ge 1 ]] || fail "the watch ended a connection to a node that answers: $(cat "$log")"
grep -q silent "$log" && fail "a node that answers was called silent: $(cat "$log")"

nft add table inet check_watch
nft add chain inet check_watch out "{ type filter hook output priority 0; }"
nft add rule inet check_watch out ip daddr "$host" tcp dport "$port" drop
silent_at=$(date +%s%N)
ended=""
for _ in $(seq 40); do
  if [[ "$(conns)" == 0 ]]; then ended=$(( ($(date +%s%N) - silent_at) / 1000000 )); break; fi
  sleep 0.05
done
[[ -n "$ended" ]] || fail "the connection to the silent node still open after 2 s: $(cat "$log")"
grep -q "app silent for 2 probes: ended [1-9][0-9]* connections to $host:$port" "$log" ||
  fail "no line about the silent node: $(cat "$log")"

nft delete table inet check_watch
for _ in $(seq 20); do grep -q "app answers again" "$log" && break; sleep 0.1; done
grep -q "app answers again" "$log" || fail "the node answers again, the watch did not notice: $(cat "$log")"
kill -0 "${pids[2]}" || fail "the watch ended: $(cat "$log")"
echo "upstream watch: a silent node'"'"'s connection ended ${ended} ms after the node went silent (bound 2 x (timeout + interval) = 400 ms + one round), its return noticed"
' check "$watch" "$HOST" "$PORT"

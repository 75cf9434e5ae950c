#!/usr/bin/env bash
# The LB's upstream watch as rendered (render/upstreamWatch.ts), run for real in a network
# namespace of its own (this host's sockets and firewall untouched): two loopback listeners stand
# in for two app nodes and a connection to the first stands in for nginx's kept-alive one. While
# the node answers the watch leaves the connection alone; once an nft rule makes it silent (the
# other still answering), the watch must end the connection within its bound and say so, and
# notice when the node answers again. With both nodes silent it must end nothing. Usage: check-upstream-watch.sh <rendered watch script>. Needs root, unshare, nft, node.
set -Eeuo pipefail

script="${1:?usage: check-upstream-watch.sh <rendered watch script>}"
[[ -f "$script" ]] || {
  echo "check-upstream-watch: no script $script" >&2
  exit 1
}

readonly HOST=127.0.0.2 PORT=39901 OTHER=127.0.0.3 INTERVAL_S=0.100 TIMEOUT_S=0.100 FAILURES=2

# The rendered loop with this check's node and timings in place of the stack's.
watch=$(mktemp)
trap 'rm -f "$watch"' EXIT
sed -e "s/^readonly NAMES=(.*)$/readonly NAMES=(app other)/" \
  -e "s/^readonly HOSTS=(.*)$/readonly HOSTS=($HOST $OTHER)/" \
  -e "s/^readonly PORTS=(.*)$/readonly PORTS=($PORT $PORT)/" \
  -e "s/^readonly INTERVAL_S=.*$/readonly INTERVAL_S=$INTERVAL_S/" \
  -e "s/^readonly TIMEOUT_S=.*$/readonly TIMEOUT_S=$TIMEOUT_S/" \
  -e "s/^readonly FAILURES=.*$/readonly FAILURES=$FAILURES/" "$script" >"$watch"
for line in "NAMES=(app other)" "HOSTS=($HOST $OTHER)" "PORTS=($PORT $PORT)" \
  "INTERVAL_S=$INTERVAL_S"; do
  grep -qxF "readonly $line" "$watch" || {
    echo "check-upstream-watch: the rendered script has no line for $line" >&2
    exit 1
  }
done

# shellcheck disable=SC2016 # expanded by the inner bash
timeout 60 unshare --net bash -c '
set -Eeuo pipefail
watch="$1" host="$2" port="$3" other="$4"
fail() { echo "check-upstream-watch: FAILED: $*" >&2; exit 1; }
conns() { ss -t -n state established dst "$host" dport = ":$port" | tail -n +2 | wc -l; }
ip link set lo up
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT

for h in "$host" "$other"; do
  node -e "require(\"net\").createServer((s) => s.on(\"error\", () => {})).listen($port, \"$h\")" &
  pids+=($!)
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/$h/$port") 2>/dev/null && break; sleep 0.1; done
done

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
kill -0 "${pids[3]}" || fail "the watch ended: $(cat "$log")"

# Both nodes silent (the LB'"'"'s own link, a stall): a fresh connection to the first stays.
sleep 30 3<>"/dev/tcp/$host/$port" &
pids+=($!)
nft add table inet check_watch
nft add chain inet check_watch out "{ type filter hook output priority 0; }"
nft add rule inet check_watch out tcp dport "$port" drop
for _ in $(seq 40); do grep -q "every node silent: no connection ended" "$log" && break; sleep 0.05; done
grep -q "every node silent: no connection ended" "$log" || fail "no line about every node silent: $(cat "$log")"
sleep 0.5
[[ "$(conns)" -ge 1 ]] || fail "the watch ended a connection while no node answered: $(cat "$log")"
nft delete table inet check_watch
echo "upstream watch: a silent node'"'"'s connection ended ${ended} ms after the node went silent (bound 2 x (timeout + interval) = 400 ms + one round), its return noticed; with both nodes silent nothing ended"
' check "$watch" "$HOST" "$PORT" "$OTHER"

#!/usr/bin/env bash
# Checks what the program would deploy for the example stack with the real tools:
#   nginx -t on the LB's nginx.conf, haproxy -c on haproxy.cfg, shellcheck on every rendered
#   payload, and a throwaway PostgreSQL 15 (loopback, temp dir) that must accept the rendered
#   settings and pg_hba.conf, run the primary setup SQL twice, serve a streaming standby made with
#   pg_basebackup -R -S, and answer the role-check agent as HAProxy would ask it. The proxy's
#   config also runs on loopback with no server UP: both ports must end a client at once. The LB
#   pair's keepalived.conf (both nodes) passes `keepalived --config-test` in a network namespace
#   of its own with an eth0, its scripts pass shellcheck, the health check answers for the
#   loopback nginx and fails without it, and the notify script writes a valid textfile. The
#   front-door payload (nginx-frontdoor: self-signed certificate, htpasswd) runs twice in a scratch
#   dir, nftables-configure twice in a network namespace of its own: both idempotent. pgFailover
#   auto: scripts/ci/check-patroni.sh (etcd, Patroni, its dynamic configuration and REST API
#   credentials, HAProxy's checks, in a network namespace of its own).
# Then scripts/ci/check-observability.sh if present. CHECK_KEEP=1 keeps the temp dir for debugging.
# Needs (Debian 12): nginx haproxy postgresql-15 shellcheck keepalived nftables etcd-server
# etcd-client patroni python3-etcd (scripts/setup/install-system-packages.sh); run as root.
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"
readonly PG_BIN=/usr/lib/postgresql/15/bin
readonly PG_PORT="${CHECK_PG_PORT:-25432}"
readonly STANDBY_PORT=$((PG_PORT + 1))

log() { printf 'check-rendered: %s\n' "$*" >&2; }
fail() {
  log "FAILED: $*"
  exit 1
}

for tool in nginx haproxy shellcheck keepalived nft unshare runuser "$PG_BIN/initdb"; do
  command -v "$tool" >/dev/null || fail "$tool not found (apt-get install nginx haproxy postgresql-15 shellcheck keepalived nftables)"
done
[[ $EUID -eq 0 ]] || fail "run as root (nginx -t and the PostgreSQL user switch need it)"

work=$(mktemp -d /tmp/check-rendered.XXXXXX)
chmod 0755 "$work"
stop_lb() {
  local pid lb_conf="$work/out/nginx-loopback/nginx.conf"
  [[ ! -f "$work/out/nginx-loopback/nginx.pid" ]] || nginx -c "$lb_conf" -s stop 2>/dev/null || true
  for pid in "${backend_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  backend_pids=()
}
stop_postgres() {
  local dir
  for dir in "$work/pg/standby" "$work/pg/primary"; do
    if [[ -f "$dir/postmaster.pid" ]]; then
      runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
    fi
  done
}
backend_pids=()
haproxy_pid=""
stop_haproxy() {
  [[ -z "$haproxy_pid" ]] || kill "$haproxy_pid" 2>/dev/null || true
  haproxy_pid=""
}
# Every server this script started stops; CHECK_KEEP=1 keeps the files for debugging.
on_exit() {
  stop_lb
  stop_haproxy
  stop_postgres
  [[ -n "${CHECK_KEEP:-}" ]] || rm -rf "$work"
}
trap on_exit EXIT

ts-node scripts/ci/render-example.ts "$work/out" >&2
payloads="$work/out/payloads"

# The value of a readonly variable of a rendered payload (exactly what the container receives).
payload_var() {
  local file="$1" name="$2"
  [[ -f "$file" ]] || fail "missing rendered payload $file"
  bash -c "$(sed -n '/^set -Eeuo pipefail$/,/^# --- lib.sh ---$/p' "$file")"$'\n'"printf '%s' \"\$$name\""
}

expect() {
  local what="$1" want="$2" got="$3"
  [[ "$got" == "$want" ]] || fail "$what: want '$want', got '$got'"
}

passed=0
pass() {
  passed=$((passed + 1))
  log "ok: $*"
}

# --- shellcheck on every rendered payload --------------------------------------------------
count=0
for script in "$payloads"/*.sh; do
  shellcheck -s bash "$script" || fail "shellcheck $(basename "$script")"
  count=$((count + 1))
done
((count >= 20)) || fail "only $count payloads rendered"
payload_var "$payloads/pg1-pg-configure.sh" ROLE_CHECK_SCRIPT >"$work/role-check"
shellcheck -s bash "$work/role-check" || fail "shellcheck role-check agent"
payload_var "$payloads/monitor-pgbackrest-repo.sh" RUN_SCRIPT >"$work/pgbackrest-run"
shellcheck -s bash "$work/pgbackrest-run" || fail "shellcheck pgBackRest run script"
pass "shellcheck: $count rendered payloads + the role-check agent + the backup run script"

# --- systemd-analyze verify: the units the program renders, the restart drop-ins on Debian's -------
if command -v systemd-analyze >/dev/null; then
  units="$work/units"
  mkdir -p "$units"
  payload_var "$payloads/webserver1-app-configure.sh" APP_UNIT >"$units/pve-ha-app.service"
  payload_var "$payloads/kafka1-kafka-configure.sh" KAFKA_UNIT >"$units/kafka.service"
  payload_var "$payloads/monitor-obs-kafka-exporter.sh" UNIT_FILE >"$units/kafka-exporter.service"
  payload_var "$payloads/pg1-pg-configure.sh" ROLE_CHECK_SOCKET >"$units/pg-role-check.socket"
  payload_var "$payloads/pg1-pg-configure.sh" ROLE_CHECK_SERVICE >"$units/pg-role-check@.service"
  backup="$payloads/monitor-pgbackrest-repo.sh"
  payload_var "$backup" SERVER_UNIT >"$units/pgbackrest-server.service"
  for type in full incr; do
    upper=${type^^}
    payload_var "$backup" "${upper}_SERVICE" >"$units/pgbackrest-$type.service"
    payload_var "$backup" "${upper}_TIMER" >"$units/pgbackrest-$type.timer"
    calendar=$(sed -n 's/^OnCalendar=//p' "$units/pgbackrest-$type.timer")
    [[ -n "$calendar" ]] || fail "pgbackrest-$type.timer has no OnCalendar"
    systemd-analyze calendar "$calendar" >/dev/null || fail "systemd-analyze calendar '$calendar' (pgbackrest-$type.timer)"
  done
  # The drop-ins exactly as a payload writes them: lib.sh's ensure_restart_policy of a rendered payload.
  debian_units=(postgresql@15-main.service nginx.service haproxy.service keepalived.service)
  lib=$(sed -n '/^# --- lib.sh ---$/,/^# --- pg-configure.sh ---$/p' "$payloads/pg1-pg-configure.sh")
  PVE_HA_UNIT_DIR="$units" bash -c "$lib"$'\n''for u in "$@"; do ensure_restart_policy "$u"; done' _ \
    "${debian_units[@]}" || fail "ensure_restart_policy"
  # keepalived's second drop-in (the VRRP state cleared when it stops), where the payload puts it.
  drop_in=$(payload_var "$payloads/lb-keepalived-configure.sh" STATE_DROP_IN_PATH)
  payload_var "$payloads/lb-keepalived-configure.sh" STATE_DROP_IN >"$units/keepalived.service.d/$(basename "$drop_in")"
  verify_out=$(cd "$units" && SYSTEMD_UNIT_PATH="$units:" systemd-analyze verify --man=no \
    ./pve-ha-app.service ./kafka.service ./kafka-exporter.service ./pg-role-check.socket \
    ./pgbackrest-server.service ./pgbackrest-full.timer ./pgbackrest-incr.timer \
    "${debian_units[@]}" 2>&1) || true
  # It exits non-zero for the containers' own binaries (node, kafka_exporter), absent on this host:
  # that finding is expected; any other line it prints fails the check.
  problems=$(grep -v ': Command .* is not executable: No such file or directory$' <<<"$verify_out" || true)
  [[ -z "$problems" ]] || fail "systemd-analyze verify: $problems"
  pass "systemd-analyze verify: 7 rendered units (the backup timers' schedules too) + restart drop-ins on ${debian_units[*]}"
else
  log "skipped: systemd-analyze verify (systemd-analyze not found)"
fi

# --- nginx -t ------------------------------------------------------------------------------
payload_var "$payloads/lb-nginx-configure.sh" NGINX_CONF >"$work/nginx.conf"
# TLS is on by default: the config names the certificate and key nginx-frontdoor makes on the LB;
# a throw-away pair stands in for them here.
if grep -q '^    ssl_certificate ' "$work/nginx.conf"; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=check -keyout "$work/lb.key" -out "$work/lb.crt" 2>/dev/null ||
    fail "openssl: no stand-in certificate for nginx -t"
  sed -i -E "s#^(    ssl_certificate ).*;#\1$work/lb.crt;#; s#^(    ssl_certificate_key ).*;#\1$work/lb.key;#" \
    "$work/nginx.conf"
fi
nginx -t -q -c "$work/nginx.conf" || fail "nginx -t"
pass "nginx -t: $(grep -c '^    server ' "$work/nginx.conf") upstream servers"

# --- the LB on loopback: round robin, and no failed request while a node is down ----------
lb_dir="$work/out/nginx-loopback"
readonly LB_URL=http://127.0.0.1:18080
start_backend() {
  local name="$1" port="$2"
  node -e '
    const [name, port] = process.argv.slice(1);
    require("http").createServer((req, res) => {
      req.resume();
      req.on("end", () => { res.setHeader("X-Served-By", name); res.end(name + "\n"); });
    }).listen(Number(port), "127.0.0.1");
  ' "$name" "$port" &
  backend_pids+=($!)
}
# served_by <n> <method>: the X-Served-By of n sequential requests, counted per node.
served_by() {
  local n="$1" method="$2" i
  for ((i = 0; i < n; i++)); do
    curl -s -o /dev/null -m 5 -X "$method" -d "body=$i" -w '%{http_code} %header{x-served-by}\n' "$LB_URL/"
  done | sort | uniq -c | awk '{ printf "%s:%s:%s ", $2, $3, $1 }'
}
start_backend webserver1 13001
start_backend webserver2 13002
backends_up=false
for _ in $(seq 1 100); do
  if curl -sf -o /dev/null http://127.0.0.1:13001/ && curl -sf -o /dev/null http://127.0.0.1:13002/; then
    backends_up=true
    break
  fi
  sleep 0.2
done
[[ "$backends_up" == true ]] || fail "the two app stand-ins did not start"
nginx -t -q -c "$lb_dir/nginx.conf" || fail "nginx -t (loopback variant)"
nginx -c "$lb_dir/nginx.conf" || fail "nginx did not start with the rendered config"
for _ in $(seq 1 50); do
  curl -sf -o /dev/null "$LB_URL/" && break
  sleep 0.2
done
expect "round robin over 10 GETs" "200:webserver1:5 200:webserver2:5 " "$(served_by 10 GET)"
expect "stub_status" "Active connections:" "$(curl -s http://127.0.0.1:18081/stub_status | head -1 | cut -d' ' -f1-2)"
# keepalived's health check as rendered, pointed at the loopback nginx's stub_status server.
lb_check="$work/check-nginx-loopback"
payload_var "$payloads/lb-keepalived-configure.sh" CHECK_SCRIPT |
  sed -E 's#http://127\.0\.0\.1:[0-9]+/#http://127.0.0.1:18081/#' >"$lb_check"
grep -q 'http://127.0.0.1:18081/' "$lb_check" || fail "health check: no loopback URL to point at"
bash "$lb_check" || fail "keepalived's health check fails while nginx serves"
kill "${backend_pids[0]}"
wait "${backend_pids[0]}" 2>/dev/null || true
expect "10 POSTs with webserver1 down" "200:webserver2:10 " "$(served_by 10 POST)"
expect "10 GETs with webserver1 down" "200:webserver2:10 " "$(served_by 10 GET)"
stop_lb
! bash "$lb_check" 2>/dev/null || fail "keepalived's health check passes with nginx stopped"
pass "nginx on loopback: 5/5 round robin; with one node down 20/20 requests (POST and GET) succeed; keepalived's health check follows nginx"

# --- the LB's front door (TLS, admin auth, POST limits) with nginx -t, then on loopback -------
# render-nginx-secure.ts renders the LB config with all three front-door options; a throw-away
# self-signed certificate and an htpasswd (openssl passwd -apr1) go where it points. Only
# loopback traffic: the POST limit is per client address, 127.0.0.2/.3 are "other clients".
command -v openssl >/dev/null || fail "openssl not found (apt-get install openssl)"
secure="$work/nginx-secure"
ts-node scripts/ci/render-nginx-secure.ts "$secure" >&2
read -r sec_http sec_https sec_stub sec_backend <"$secure/ports"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$secure/tls.key" -out "$secure/tls.crt" 2>/dev/null || fail "openssl: self-signed certificate"
printf 'admin:%s\n' "$(openssl passwd -apr1 check-admin-pw)" >"$secure/htpasswd"
chmod 0644 "$secure/htpasswd"
nginx -t -q -c "$secure/nginx.conf" || fail "nginx -t (front-door options)"
stop_secure_lb() {
  [[ ! -f "$secure/nginx.pid" ]] || nginx -c "$secure/nginx.conf" -s stop 2>/dev/null || true
}
trap 'stop_secure_lb; on_exit' EXIT
start_backend webserver1 "$sec_backend"
sec_backend_pid=${backend_pids[-1]}
sec_url="https://127.0.0.1:$sec_https"
nginx -c "$secure/nginx.conf" || fail "nginx did not start with the front-door options"
# Until the stand-in answers through nginx (-f: a 502 while node still starts does not count; the
# upstream a failed try marked down comes back after lbFailTimeoutSeconds).
for _ in $(seq 1 50); do
  curl -skf -o /dev/null "$sec_url/healthz" && break
  sleep 0.2
done
# secure_code <curl args...>: the status code of one request (certificate not verified: self-signed).
secure_code() { curl -sk -o /dev/null -m 5 -w '%{http_code}' "$@"; }
expect "http -> https" "301 $sec_url/x?y=1" \
  "$(curl -s -o /dev/null -m 5 -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$sec_http/x?y=1")"
expect "https GET / (protocol, status, node)" "2 200 webserver1" \
  "$(curl -sk -o /dev/null -m 5 -w '%{http_version} %{http_code} %header{x-served-by}' "$sec_url/")"
[[ "$(curl -sk -o /dev/null -m 5 -w '%header{strict-transport-security}' "$sec_url/")" == max-age=* ]] \
  || fail "https: no Strict-Transport-Security header"
for tls_version in 1.2 1.3; do
  expect "TLS $tls_version" 200 "$(secure_code --tlsv"$tls_version" --tls-max "$tls_version" "$sec_url/")"
done
expect "stub_status (loopback server untouched)" 200 "$(secure_code "http://127.0.0.1:$sec_stub/stub_status")"
expect "/admin without credentials" 401 "$(secure_code "$sec_url/admin")"
expect "/admin?page=2 with a wrong password" 401 "$(secure_code -u admin:wrong "$sec_url/admin?page=2")"
expect "/%61dmin (escaped) without credentials" 401 "$(secure_code "$sec_url/%61dmin")"
expect "/admin with credentials" 200 "$(secure_code -u admin:check-admin-pw "$sec_url/admin")"
expect "/api/messages without credentials" 401 "$(secure_code "$sec_url/api/messages?limit=1")"
expect "/metrics through the LB (never proxied)" 404 "$(secure_code "$sec_url/metrics")"
guesses=$(for _ in $(seq 1 15); do secure_code -u admin:guess "$sec_url/admin"; echo; done |
  sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
[[ "$guesses" == *429:* ]] || fail "15 password guesses at once: no 429 ($guesses)"
posts=$(for i in $(seq 1 20); do secure_code -X POST -d "body=$i" "$sec_url/messages"; echo; done |
  sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
[[ "$posts" == *200:* && "$posts" == *429:* ]] || fail "20 POSTs at once from one client: want some 200 and some 429 ($posts)"
expect "GET from the POST-limited client" 200 "$(secure_code "$sec_url/")"
expect "POST from another client" 200 "$(secure_code --interface 127.0.0.2 -X POST -d body=x "$sec_url/messages")"
big_body=$(head -c 2048 /dev/zero | tr '\0' a)
expect "POST over the body limit" 413 "$(secure_code --interface 127.0.0.3 -X POST -d "body=$big_body" "$sec_url/messages")"
stop_secure_lb
kill "$sec_backend_pid" 2>/dev/null || true
wait "$sec_backend_pid" 2>/dev/null || true
trap on_exit EXIT
pass "nginx front door: nginx -t + loopback: http 301 -> https (HTTP/2, TLS 1.2/1.3, HSTS); /admin 401 without or with wrong credentials, 200 with, guesses $guesses; 20 POSTs from one client $posts, other clients unaffected; body over the limit 413"

# --- keepalived --config-test: the LB pair's configs, with their scripts where they name them ---
# The configs name eth0 and run their scripts as root under enable_script_security, which
# refuses a script that anyone but root could change: the scripts go to root-owned directories
# of the work dir (0755 under the sticky /tmp) and the configs are pointed there.
lb_pair=("$payloads"/*-keepalived-configure.sh)
[[ -f "${lb_pair[0]}" ]] || fail "no keepalived-configure payload rendered (the example stack has lbReplicas 2)"
for payload in "${lb_pair[@]}"; do
  lb=$(basename "$payload" -keepalived-configure.sh)
  dir="$work/keepalived/$lb"
  install -d -o root -g root -m 0755 "$dir"
  check_path=$(payload_var "$payload" CHECK_SCRIPT_PATH)
  notify_path=$(payload_var "$payload" NOTIFY_SCRIPT_PATH)
  payload_var "$payload" CHECK_SCRIPT >"$dir/check-nginx"
  payload_var "$payload" NOTIFY_SCRIPT >"$dir/vrrp-state"
  chmod 0755 "$dir/check-nginx" "$dir/vrrp-state"
  shellcheck -s bash "$dir/check-nginx" "$dir/vrrp-state" || fail "shellcheck keepalived scripts ($lb)"
  payload_var "$payload" KEEPALIVED_CONF |
    sed "s#\"$check_path\"#\"$dir/check-nginx\"#; s#\"$notify_path\"#\"$dir/vrrp-state\"#" >"$dir/keepalived.conf"
  for script in check-nginx vrrp-state; do
    grep -q "\"$dir/$script\"" "$dir/keepalived.conf" || fail "keepalived.conf ($lb): no $script path to point at"
  done
  # Only the config test runs, in a network namespace of its own: no VRRP reaches this host's network.
  # shellcheck disable=SC2016 # $1 expands in the inner bash
  findings=$(unshare --net bash -c 'ip link add eth0 type veth peer name eth0-peer && ip link set eth0 up &&
    exec keepalived --config-test -f "$1"' _ "$dir/keepalived.conf" 2>&1) \
    || fail "keepalived --config-test ($lb, exit $?): ${findings:-no message}"
  [[ -z "$findings" ]] || fail "keepalived --config-test ($lb): $findings"
done
# The notify script writes node_exporter's textfile (tmp + rename) in the exposition format.
textfile="$work/keepalived/textfile/pve-ha-vrrp.prom"
for state in MASTER FAULT BACKUP STOP; do
  PVE_HA_VRRP_TEXTFILE="$textfile" bash "$work/keepalived/lb/vrrp-state" INSTANCE \
    "$(sed -n 's/^vrrp_instance \(.*\) {$/\1/p' "$work/keepalived/lb/keepalived.conf")" "$state" 150 \
    || fail "vrrp-state $state"
  if command -v promtool >/dev/null; then
    promtool check metrics <"$textfile" >/dev/null 2>&1 || fail "promtool check metrics: the $state textfile"
  fi
done
grep -q ' 0$' "$textfile" || fail "vrrp-state: no state written"
pass "keepalived --config-test: ${#lb_pair[@]} LB configs (VRRPv3, unicast peers) + shellcheck of their scripts + the state textfile"

# --- the LB's upstream watch, run for real in a namespace of its own ----------------------------
payload_var "$payloads/lb-upstream-watch-configure.sh" SCRIPT >"$work/upstream-watch"
shellcheck -s bash "$work/upstream-watch" || fail "shellcheck upstream watch"
watch_result=$(bash scripts/ci/check-upstream-watch.sh "$work/upstream-watch") || fail "upstream watch"
pass "$watch_result"

# --- nft -c: each container's own firewall (nftables, from the exposure rules) -----------------
# Every node's ruleset passes `nft -c`; then, in a network namespace of its own (this host's
# firewall untouched), it is applied twice: the second run must replace the table, not add to it.
nft_dir="$work/out/nftables"
ts-node scripts/ci/render-nftables.ts "$nft_dir" >&2
nft_files=("$nft_dir"/*.nft)
[[ -f "${nft_files[0]}" ]] || fail "no nftables ruleset rendered"
for file in "${nft_files[@]}"; do
  node=$(basename "$file" .nft)
  findings=$(nft -c -f "$file" 2>&1) || fail "nft -c ($node): ${findings:-no message}"
  # shellcheck disable=SC2016 # $1 expands in the inner bash
  listed=$(unshare --net bash -c 'nft -f "$1" && nft -f "$1" && nft list table inet pve_ha' _ "$file" 2>&1) \
    || fail "nft -f twice ($node): ${listed:-no message}"
  expect "accept rules of $node after applying twice" "$(grep -c ' accept comment "' "$file")" \
    "$(grep -c ' accept comment "' <<<"$listed")"
done
pass "nft -c: ${#nft_files[@]} container rulesets (policy drop); each applied twice replaces its table"

# --- the front-door and firewall payloads, run twice in scratch places ---------------------------
# nginx-frontdoor as rendered for lb (self-signed, admin auth), its paths pointed into the work dir
# and its unit at one that does not exist (this host's nginx is never reloaded): the first run
# makes the certificate and the htpasswd, the second keeps both; modes, SANs, the hash, and no
# password in what it prints.
fd="$work/frontdoor"
mkdir -p "$fd/restart"
fd_payload="$payloads/lb-nginx-frontdoor.sh"
sed -e "s#^readonly CERT_PATH=.*#readonly CERT_PATH='$fd/tls/lb.crt'#" \
  -e "s#^readonly KEY_PATH=.*#readonly KEY_PATH='$fd/tls/lb.key'#" \
  -e "s#^readonly HTPASSWD_PATH=.*#readonly HTPASSWD_PATH='$fd/htpasswd'#" \
  -e 's#^readonly UNIT=nginx$#readonly UNIT=pve-ha-check-no-such-unit#' "$fd_payload" >"$fd/run.sh"
expect "nginx-frontdoor lines pointed at the work dir" 4 "$(grep -c "$fd\|no-such-unit" "$fd/run.sh")"
admin_pw=$(payload_var "$fd_payload" ADMIN_PASSWORD)
san_ips=$(payload_var "$fd_payload" TLS_SAN_IPS)
for round in 1 2; do
  PVE_HA_RESTART_DIR="$fd/restart" bash "$fd/run.sh" >"$fd/out$round" 2>"$fd/err$round" \
    || fail "nginx-frontdoor run $round: $(cat "$fd/err$round")"
  ! grep -qF "$admin_pw" "$fd/out$round" "$fd/err$round" || fail "nginx-frontdoor printed the password"
  sha256sum "$fd/tls/lb.crt" "$fd/tls/lb.key" "$fd/htpasswd" >"$fd/sums$round"
done
grep -q "self-signed certificate made" "$fd/err1" || fail "nginx-frontdoor run 1: $(cat "$fd/err1")"
grep -q "self-signed certificate kept" "$fd/err2" || fail "nginx-frontdoor run 2: $(cat "$fd/err2")"
grep -q "htpasswd unchanged" "$fd/err2" || fail "nginx-frontdoor run 2: $(cat "$fd/err2")"
cmp -s "$fd/sums1" "$fd/sums2" || fail "nginx-frontdoor run 2 changed a file"
expect "key mode" "600 root:root" "$(stat -c '%a %U:%G' "$fd/tls/lb.key")"
expect "certificate mode" "644 root:root" "$(stat -c '%a %U:%G' "$fd/tls/lb.crt")"
expect "htpasswd mode" "640 root:www-data" "$(stat -c '%a %U:%G' "$fd/htpasswd")"
sans=$(openssl x509 -in "$fd/tls/lb.crt" -noout -ext subjectAltName | tail -n +2 | tr -d ' ')
read -r -a san_list <<<"$san_ips"
want_sans=$(printf 'IPAddress:%s,' "${san_list[@]}")
expect "certificate SANs" "${want_sans%,}" "$sans"
line=$(cat "$fd/htpasswd")
salt=$(cut -d '$' -f 3 <<<"$line")
expect "htpasswd line" "$line" "$(payload_var "$fd_payload" ADMIN_USER):$(printf '%s\n' "$admin_pw" | openssl passwd -apr1 -salt "$salt" -stdin)"
pass "nginx-frontdoor twice: self-signed certificate (SAN $san_ips) and htpasswd made, then kept; key 0600, htpasswd 0640 root:www-data; no password printed"

# nftables-configure for monitor, in a network namespace of its own (no wait for its network), its
# file in the work dir and nftables.service left alone: the first run loads the table, the second finds nothing to do.
nft_payload="$payloads/monitor-nftables-configure.sh"
sed -e "s#^readonly CONF_PATH=.*#readonly CONF_PATH='$work/nftables.conf'#" \
  -e "s#^readonly SYSCTL_PATH=.*#readonly SYSCTL_PATH='$work/conntrack.conf'#" \
  -e 's#^systemctl enable --quiet nftables.service$#: nftables.service not enabled in the check#' \
  -e 's#^wait_network$#: the namespace has no network to wait for#' \
  "$nft_payload" >"$work/nftables-run.sh"
expect "nftables-configure lines changed for the check" 4 \
  "$(grep -c "$work/nftables.conf\|$work/conntrack.conf\|not enabled in the check\|no network to wait for" "$work/nftables-run.sh")"
# shellcheck disable=SC2016 # $1 expands in the inner bash
nft_runs=$(unshare --net bash -c 'bash "$1" && bash "$1" && nft list table inet pve_ha >/dev/null' _ "$work/nftables-run.sh" 2>/dev/null) \
  || fail "nftables-configure in a namespace"
expect "nftables-configure twice" $'nftables changed\nnftables unchanged' "$nft_runs"
pass "nftables-configure twice in a network namespace: nft -c, loaded, then unchanged"

# --- haproxy -c ------------------------------------------------------------------------------
payload_var "$payloads/pgproxy-haproxy-configure.sh" HAPROXY_CFG >"$work/haproxy.cfg"
haproxy -c -q -f "$work/haproxy.cfg" || fail "haproxy -c"
[[ "$(haproxy -vv 2>&1)" == *prometheus-exporter* ]] || fail "this haproxy has no prometheus-exporter service"
pass "haproxy -c (with the prometheus-exporter service)"

# --- haproxy on loopback: with no server UP a client is refused at once ------------------------
hacfg="$work/out/haproxy-loopback/haproxy.cfg"
grep -q '^  bind 127.0.0.1:15000$' "$hacfg" || fail "loopback haproxy.cfg does not bind 127.0.0.1:15000"
haproxy -db -f "$hacfg" >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!
# Both servers start UP and go DOWN after "fall" failed checks; wait for that (bounded).
down=""
for _ in $(seq 1 40); do
  down=$(curl -s 'http://127.0.0.1:18404/stats;csv' | awk -F, '$1 ~ /^pg_read_(write|only)$/ && $2 ~ /^pg[12]$/ && $18 ~ /^DOWN/' | wc -l || true)
  [[ "$down" == 4 ]] && break
  sleep 0.5
done
[[ "$down" == 4 ]] || fail "haproxy on loopback: servers not all DOWN after 20 s ($down of 4); log: $(tail -5 "$work/haproxy.log")"
# Milliseconds until the proxy ends a new connection (EOF or reset), at most 5 s.
ms_until_closed() {
  local start end
  start=$(date +%s%N)
  timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && IFS= read -r -t 5 _ <&3" 2>/dev/null || true
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
for port in 15000 15001; do
  ms=$(ms_until_closed "$port")
  ((ms < 1000)) || fail "haproxy on loopback: port $port held a connection ${ms} ms with no server UP (want a refusal at once)"
  log "port $port with no server UP: connection ended after ${ms} ms"
done
stop_haproxy
pass "haproxy on loopback: with no PostgreSQL server UP both ports refuse at once"

# --- PostgreSQL 15 -------------------------------------------------------------------------
psql_at() {
  local port="$1"
  shift
  runuser -u postgres -- "$PG_BIN/psql" -h "$pg" -p "$port" -d postgres -XAtq -v ON_ERROR_STOP=1 "$@"
}

# Data dirs, logs and sockets live in a directory the postgres user owns.
pg="$work/pg"
install -d -o postgres -g postgres -m 0700 "$pg"
primary="$pg/primary"
install -d -o postgres -g postgres -m 0700 "$primary"
runuser -u postgres -- "$PG_BIN/initdb" -D "$primary" --data-checksums -A peer -U postgres >/dev/null
install -d -o postgres -g postgres "$primary/conf.d"
payload_var "$payloads/pg1-pg-configure.sh" PG_CONF >"$primary/conf.d/pve-ha.conf"
payload_var "$payloads/pg1-pg-configure.sh" PG_HBA >"$primary/pg_hba.conf"
# Test-only additions: the rendered rules name the containers' addresses, this check is loopback.
printf 'host replication replicator 127.0.0.1/32 scram-sha-256\n' >>"$primary/pg_hba.conf"
echo "include_dir = 'conf.d'" >>"$primary/postgresql.conf"
chown -R postgres:postgres "$primary"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$primary" -l "$pg/primary.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$pg" start >/dev/null \
  || { cat "$pg/primary.log" >&2; fail "PostgreSQL did not start with the rendered settings"; }
# listen_addresses and port are overridden on the command line (loopback, free port), so
# PostgreSQL reports them as "could not be applied"; any other error is a real one.
settings_errors=$(psql_at "$PG_PORT" -c "SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL
  AND NOT (name IN ('listen_addresses', 'port') AND error = 'setting could not be applied')")
expect "settings errors" 0 "$settings_errors"
expect "pg_hba errors" 0 "$(psql_at "$PG_PORT" -c 'SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')"
expect "wal_level" replica "$(psql_at "$PG_PORT" -c 'SHOW wal_level')"
expect "wal_log_hints" on "$(psql_at "$PG_PORT" -c 'SHOW wal_log_hints')"
expect "max_slot_wal_keep_size" 1GB "$(psql_at "$PG_PORT" -c 'SHOW max_slot_wal_keep_size')"
expect "data_checksums" on "$(psql_at "$PG_PORT" -c 'SHOW data_checksums')"
applied=$(psql_at "$PG_PORT" -c "SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%pve-ha.conf' AND applied")
pass "PostgreSQL 15 accepts the rendered settings ($applied applied from pve-ha.conf) and pg_hba.conf"

setup_sql=$(payload_var "$payloads/pg1-pg-primary-setup.sh" SETUP_SQL)
for round in 1 2; do
  printf '%s' "$setup_sql" | psql_at "$PG_PORT" -v superuser_password=su-pw \
    -v replication_password=repl-pw -v app_password=app-pw -f - >/dev/null \
    || fail "primary setup SQL (round $round)"
done
expect "app database owner" app "$(psql_at "$PG_PORT" -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'messages'")"
expect "replication role" t "$(psql_at "$PG_PORT" -c "SELECT rolreplication FROM pg_roles WHERE rolname = 'replicator'")"
expect "slot" standby1 "$(psql_at "$PG_PORT" -c 'SELECT slot_name FROM pg_replication_slots')"
pass "primary setup SQL runs twice (idempotent): roles, database, slot"

standby="$pg/standby"
PGPASSWORD=repl-pw runuser -u postgres --preserve-environment -- "$PG_BIN/pg_basebackup" -h 127.0.0.1 \
  -p "$PG_PORT" -U replicator -D "$standby" -X stream -S standby1 -R -c fast -w \
  || fail "pg_basebackup -R -S standby1"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$standby" -l "$pg/standby.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$STANDBY_PORT -c unix_socket_directories=$pg" start >/dev/null \
  || { cat "$pg/standby.log" >&2; fail "the standby did not start"; }
streaming=""
for _ in $(seq 1 30); do
  streaming=$(psql_at "$PG_PORT" -c "SELECT state || '/' || sync_state FROM pg_stat_replication") || true
  [[ "$streaming" == streaming/async ]] && break
  sleep 1
done
expect "pg_stat_replication on the primary" streaming/async "$streaming"
pass "standby from pg_basebackup -R -S streams asynchronously"

# The role-check agent, pointed at the throwaway servers (socket dir and port substituted).
role_check() {
  local port="$1" path="$2"
  local agent="$work/role-check-$port"
  sed "s#-h /run/postgresql -p 5432#-h $pg -p $port#" "$work/role-check" >"$agent"
  grep -q -- "-h $pg -p $port" "$agent" || fail "role-check agent: connection options not found"
  chmod 0755 "$agent"
  printf 'GET %s HTTP/1.0\r\nHost: x\r\n\r\n' "$path" | runuser -u postgres -- "$agent" | head -1 | tr -d '\r'
}
expect "primary /primary" "HTTP/1.0 200 OK" "$(role_check "$PG_PORT" /primary)"
expect "primary /replica" "HTTP/1.0 503 Service Unavailable" "$(role_check "$PG_PORT" /replica)"
expect "standby /primary" "HTTP/1.0 503 Service Unavailable" "$(role_check "$STANDBY_PORT" /primary)"
expect "standby /replica" "HTTP/1.0 200 OK" "$(role_check "$STANDBY_PORT" /replica)"
expect "standby /health" "HTTP/1.0 200 OK" "$(role_check "$STANDBY_PORT" /health)"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$standby" -m fast -w stop >/dev/null
expect "stopped /health" "HTTP/1.0 503 Service Unavailable" "$(role_check "$STANDBY_PORT" /health)"
pass "role-check agent tells primary from standby (and a stopped server)"

# --- pgFailover auto: etcd + Patroni for real (scripts/ci/check-patroni.sh) -------------------------
ts-node scripts/ci/render-patroni.ts "$work/patroni" >&2
patroni_out=$(bash scripts/ci/check-patroni.sh "$work/patroni" 2>&1) \
  || fail "check-patroni.sh: $(tail -n 20 <<<"$patroni_out")"
pass "check-patroni.sh: $(grep -c '^check-patroni: ' <<<"$patroni_out") steps (etcd, Patroni bootstrap, dynamic configuration, REST API credentials, HAProxy)"

log "$passed checks passed"
if [[ -f scripts/ci/check-observability.sh ]]; then
  bash scripts/ci/check-observability.sh
fi

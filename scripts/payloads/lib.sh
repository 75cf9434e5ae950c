#!/usr/bin/env bash
# Shared functions of every payload. renderPayload() prepends this file (after the readonly
# variables) to each payload body; payloads run as root inside a container via `pct exec`.
set -Eeuo pipefail

# pct exec passes little environment; make PATH and the locale independent of the caller.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C.UTF-8 LC_ALL=C.UTF-8
export DEBIAN_FRONTEND=noninteractive
# Overridable from the environment so the functions can be tested outside a container.
: "${PVE_HA_STATE_DIR:=/var/lib/pve-ha}"
: "${PVE_HA_RESTART_DIR:=/run/pve-ha/restart}"
: "${PVE_HA_UNIT_DIR:=/etc/systemd/system}"

log() {
  printf '[%s] %s\n' "${PAYLOAD_NAME:-payload}" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

# True while an apt/dpkg process runs (scans /proc: no psmisc/procps needed).
dpkg_busy() {
  local comm_file comm
  for comm_file in /proc/[0-9]*/comm; do
    comm=$(cat "$comm_file" 2>/dev/null) || continue
    case "$comm" in
      apt | apt-get | dpkg | unattended-upgr | apt.systemd.dai) return 0 ;;
    esac
  done
  return 1
}

# Waits until eth0 has an IPv4 address and a default route exists (bounded).
wait_network() {
  local timeout=120 waited=0
  until [[ -n "$(hostname -I 2>/dev/null | tr -d ' ')" ]] \
    && awk '$2 == "00000000" { found = 1 } END { exit !found }' /proc/net/route; do
    ((waited < timeout)) || die "no IPv4 address or default route after ${timeout}s"
    sleep 1
    waited=$((waited + 1))
  done
}

# Waits until no apt/dpkg process runs (first boot runs apt timers; bounded).
wait_dpkg_lock() {
  local timeout=300 waited=0
  while dpkg_busy; do
    ((waited < timeout)) || die "apt/dpkg still busy after ${timeout}s"
    sleep 2
    waited=$((waited + 2))
  done
}

# Waits until systemd finished booting ("degraded" is accepted: it still runs our units).
wait_systemd() {
  # Right after a container starts, systemctl may fail at once (no bus yet): retry, bounded.
  local state="" deadline=$((SECONDS + 180))
  while ((SECONDS < deadline)); do
    state=$(timeout 60 systemctl is-system-running --wait 2>/dev/null) || true
    case "$state" in
      running | degraded) return 0 ;;
      "" | initializing | starting) sleep 1 ;;
      *) break ;;
    esac
  done
  die "systemd did not finish booting (state: ${state:-unknown})"
}

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == "installed" ]]
}

# Installs the packages that are missing; does nothing (no apt-get update) when none is.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  ((${#missing[@]} > 0)) || return 0
  log "installing: ${missing[*]}"
  wait_dpkg_lock
  apt-get -q update >&2
  apt-get -q install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >&2
}

# Marks a unit for restart by the next ensure_service.
mark_restart() {
  mkdir -p "$PVE_HA_RESTART_DIR"
  touch "$PVE_HA_RESTART_DIR/$1"
}

# write_file <path> <mode> <owner[:group]> [unit]: stdin -> path, only if the content differs.
# Prints "changed" or "unchanged"; on change marks [unit] for restart.
write_file() {
  local dest="$1" mode="$2" owner="$3" unit="${4:-}" tmp
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp "$(dirname "$dest")/.pve-ha.XXXXXX")
  cat >"$tmp"
  if [[ -f "$dest" ]] && cmp -s "$tmp" "$dest"; then
    rm -f "$tmp"
    chmod "$mode" "$dest"
    chown "$owner" "$dest"
    echo unchanged
    return 0
  fi
  chmod "$mode" "$tmp"
  chown "$owner" "$tmp"
  mv -f "$tmp" "$dest"
  [[ -z "$unit" ]] || mark_restart "$unit"
  echo changed
}

# ensure_service <unit> [restart|reload]: enables and starts a unit; when write_file/mark_restart
# marked it, restarts it, or reloads it if it runs and `reload` is asked (a server that rereads its
# configuration without dropping connections).
ensure_service() {
  local unit="$1" how="${2:-restart}"
  systemctl daemon-reload
  systemctl enable --quiet "$unit"
  # A unit its start limit left `failed` (a crash loop) refuses to start until reset: a deploy is
  # the deliberate act that tries again.
  if systemctl is-failed --quiet "$unit"; then
    log "resetting failed $unit"
    systemctl reset-failed "$unit"
  fi
  if [[ -f "$PVE_HA_RESTART_DIR/$unit" ]]; then
    if [[ "$how" == reload ]] && systemctl is-active --quiet "$unit"; then
      log "reloading $unit (configuration changed)"
      systemctl reload "$unit"
    else
      log "restarting $unit (configuration changed)"
      systemctl restart "$unit"
    fi
    rm -f "$PVE_HA_RESTART_DIR/$unit"
  else
    systemctl start "$unit"
  fi
}

# ensure_restart_policy <unit.service>: drop-in so systemd restarts a packaged unit after a crash,
# never after a deliberate stop, and a crash loop ends in `failed`. The same policy as the units
# the project renders (components/render/restartPolicy.ts; a unit test keeps them equal). Takes
# effect with ensure_service's daemon-reload; the running service is not restarted for it.
ensure_restart_policy() {
  local unit="$1"
  [[ "$unit" == *.service ]] || die "ensure_restart_policy: not a .service unit: $unit"
  printf '%s\n' '# pve-ha-stack: restart after a crash, never after a deliberate stop.' \
    '[Unit]' 'StartLimitIntervalSec=120' 'StartLimitBurst=5' '' \
    '[Service]' 'Restart=on-failure' 'RestartSec=1' |
    write_file "$PVE_HA_UNIT_DIR/$unit.d/restart.conf" 0644 root:root >/dev/null
}

# wait_tcp <host> <port> [timeout]: waits until a TCP connect succeeds (bash /dev/tcp).
wait_tcp() {
  local host="$1" port="$2" timeout="${3:-120}" waited=0
  until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    ((waited < timeout)) || die "$host:$port not reachable after ${timeout}s"
    sleep 1
    waited=$((waited + 1))
  done
}

# http_get <host> <port> <path>: the whole answer (headers and body), "" when nothing answers
# (bash's /dev/tcp: curl is not in the base image).
http_get() {
  # shellcheck disable=SC2016 # $0..$2 are the inner shell's arguments
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" \
    && printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3 && cat <&3' \
    "$1" "$2" "$3" 2>/dev/null || true
}

# http_status <host> <port> <path>: the HTTP status code, "" when nothing answers.
http_status() {
  local answer
  answer=$(http_get "$1" "$2" "$3")
  [[ "$answer" =~ ^HTTP/1\.[01]\ ([0-9]{3}) ]] && printf '%s' "${BASH_REMATCH[1]}"
  return 0
}

# wait_http_ready <host> <port> <path> <timeout> [needle...]: until GET <path> answers 200 with
# every needle in its body; dies after <timeout> s naming the last answer.
wait_http_ready() {
  local host="$1" port="$2" path="$3" timeout="$4" waited=0 answer needle ready
  shift 4
  while :; do
    answer=$(http_get "$host" "$port" "$path")
    ready=true
    [[ "$answer" =~ ^HTTP/1\.[01]\ 200 ]] || ready=false
    for needle in "$@"; do [[ "$answer" == *"$needle"* ]] || ready=false; done
    [[ "$ready" == true ]] && return 0
    ((waited < timeout)) \
      || die "GET $path on $host:$port not ready after ${timeout}s; last answer: ${answer##*$'\r\n\r\n'}"
    sleep 1
    waited=$((waited + 1))
  done
}

download() {
  local url="$1" out="$2"
  if command -v curl >/dev/null; then
    curl -fsSL --retry 3 -o "$out" "$url"
  elif command -v wget >/dev/null; then
    wget -q -O "$out" "$url"
  else
    apt_install curl
    curl -fsSL --retry 3 -o "$out" "$url"
  fi
}

# fetch_artifact <dest> <local> <url> <sha256> <sha512>: puts an artifact at <dest>, either the
# file already pushed to <local> or a download of <url> checked by its digest. Idempotent.
fetch_artifact() {
  local dest="$1" local_path="$2" url="$3" sha256="$4" sha512="$5" tmp
  mkdir -p "$(dirname "$dest")"
  if [[ -n "$local_path" ]]; then
    [[ -s "$local_path" ]] || die "artifact $local_path was not pushed"
    [[ "$local_path" == "$dest" ]] || cp -f "$local_path" "$dest"
    return 0
  fi
  [[ -n "$url" ]] || die "artifact for $dest has neither a local path nor a url"
  [[ -n "$sha256$sha512" ]] || die "artifact $url has no checksum"
  if [[ -s "$dest" ]] && artifact_digest_ok "$dest" "$sha256" "$sha512"; then
    return 0
  fi
  tmp=$(mktemp "$(dirname "$dest")/.download.XXXXXX")
  download "$url" "$tmp"
  artifact_digest_ok "$tmp" "$sha256" "$sha512" || {
    rm -f "$tmp"
    die "checksum mismatch for $url"
  }
  mv -f "$tmp" "$dest"
}

artifact_digest_ok() {
  local file="$1" sha256="$2" sha512="$3"
  if [[ -n "$sha512" ]]; then
    [[ "$(sha512sum "$file" | cut -d' ' -f1)" == "$sha512" ]]
  else
    [[ "$(sha256sum "$file" | cut -d' ' -f1)" == "$sha256" ]]
  fi
}

# Runs SQL as the postgres superuser over the local socket (PG_SOCKET_DIR, PG_PORT: the payload's
# variables, localPsqlVars). -h keeps Debian's pg_wrapper from reading postgresql.conf for them,
# which Patroni rewrites in place whenever the synchronous standby changes.
psql_su() {
  (cd / && runuser -u postgres -- psql -h "${PG_SOCKET_DIR:?}" -p "${PG_PORT:?}" \
    -v ON_ERROR_STOP=1 -X -q "$@")
}

# pg_query <sql>: one value from the local PostgreSQL (psql_su, unaligned), "" when it does not
# answer or the query fails (callers wait on it in bounded loops).
pg_query() {
  psql_su -d postgres -Atc "$1" 2>/dev/null || true
}

# pg_conf_value <name>: the value PostgreSQL 15 would start with, read from its configuration
# files now (`postgres -C`: safe while the server runs). Fails, with PostgreSQL's complaint on
# stderr, when the files hold an error a (re)start would stop at.
pg_conf_value() {
  (cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/postgres \
    -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf -C "$1")
}

# pg_control_setting <label>: a parameter value recorded in the local cluster's control file
# (`pg_controldata`, e.g. "max_connections" -> the primary's value a replica last replayed).
pg_control_setting() {
  (cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_controldata \
    -D /var/lib/postgresql/15/main) 2>/dev/null | sed -n "s/^$1 setting: *//p"
}

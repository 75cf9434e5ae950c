#!/usr/bin/env bash
# Patroni on a PostgreSQL node (pgFailover auto): writes /etc/patroni/15-main.yml and the restart
# drop-in, starts patroni@15-main and waits, bounded, until its REST API answers GET /health 200
# (PostgreSQL running: bootstrapped by this node's Patroni or cloned from the leader's).
# Patroni owns 15/main: Debian's postgresql@15-main is disabled and start.conf says `disabled`, so
# nothing starts a second postmaster. A changed file is applied by a reload (SIGHUP): a restart
# of Patroni would stop PostgreSQL and could fail over.
# Adoption: a node whose 15/main Patroni did not create is refused (a manual-mode stack switched to
# auto, README "Switching to automatic failover"), except Debian's own empty cluster, dropped.
# Vars: PACKAGES, PATRONI_YML, DROP_IN, CONFIG_PATH, DROP_IN_PATH, UNIT, CONF_DIR, DATA_DIR,
# NODE_NAME, SELF_IP, REST_PORT, START_TIMEOUT_SECONDS, BASE_CONF, BASE_CONF_NAME.
set -Eeuo pipefail

readonly DEBIAN_UNIT=postgresql@15-main.service
readonly OWNED="$PVE_HA_STATE_DIR/patroni-owns-15-main"

# http_status <host> <port> <path>: the HTTP status code, "" when nothing answers.
http_status() {
  local answer
  # shellcheck disable=SC2016 # $0..$2 are the inner shell's arguments
  answer=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" \
    && printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3 && head -c 12 <&3' \
    "$1" "$2" "$3" 2>/dev/null) || answer=""
  [[ "$answer" =~ ^HTTP/1\.[01]\ ([0-9]{3}) ]] && printf '%s' "${BASH_REMATCH[1]}"
  return 0
}

wait_network
read -r -a packages <<<"$PACKAGES"
apt_install "${packages[@]}"

owned_by_patroni() {
  [[ -f "$OWNED" || -f "$DATA_DIR/patroni.dynamic.json" ]] || systemctl is-active --quiet "$UNIT"
}
if [[ -f "$DATA_DIR/PG_VERSION" ]] && ! owned_by_patroni; then
  user_dbs=$(pg_query "SELECT count(*) FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')")
  if systemctl is-active --quiet "$DEBIAN_UNIT" && [[ "$user_dbs" == 0 ]]; then
    log "dropping Debian's empty 15/main: Patroni bootstraps or clones its own"
    pg_dropcluster --stop 15 main
  else
    die "$NODE_NAME has a PostgreSQL 15/main that Patroni did not create (databases besides the" \
      "defaults: ${user_dbs:-unknown, $DEBIAN_UNIT not running}): pgFailover auto does not adopt" \
      "a cluster set up by pgFailover manual; nothing was changed. See README" \
      "\"Switching to automatic failover\""
  fi
fi

mkdir -p "$PVE_HA_STATE_DIR"
touch "$OWNED"
install -d -o postgres -g postgres -m 0755 "$CONF_DIR" "$(dirname "$DATA_DIR")"
printf '%s\n' '# pve-ha-stack: Patroni (patroni@15-main) runs this cluster, never pg_ctlcluster.' \
  disabled | write_file "$CONF_DIR/start.conf" 0644 postgres:postgres >/dev/null
if systemctl is-enabled --quiet "$DEBIAN_UNIT" 2>/dev/null; then
  systemctl disable --quiet "$DEBIAN_UNIT"
fi

printf '%s' "$BASE_CONF" | write_file "$CONF_DIR/$BASE_CONF_NAME" 0644 postgres:postgres >/dev/null
install -d -o postgres -g postgres -m 0750 "$(dirname "$CONFIG_PATH")"
yml=$(printf '%s' "$PATRONI_YML" | write_file "$CONFIG_PATH" 0600 postgres:postgres "$UNIT")
printf '%s' "$DROP_IN" | write_file "$DROP_IN_PATH" 0644 root:root >/dev/null
# --validate-config also checks that the REST API's and PostgreSQL's ports are free: only
# before Patroni runs. A running Patroni keeps its old settings if a reload brings bad ones.
if ! systemctl is-active --quiet "$UNIT"; then
  (cd / && runuser -u postgres -- patroni --validate-config "$CONFIG_PATH") \
    || die "patroni --validate-config refuses $CONFIG_PATH"
fi
ensure_service "$UNIT" reload

# Until GET /health answers 200; a unit that failed (systemd gave up restarting it) ends the wait
# at once with Patroni's last words instead of the whole timeout.
deadline=$((SECONDS + START_TIMEOUT_SECONDS))
until [[ "$(http_status "$SELF_IP" "$REST_PORT" /health)" == 200 ]]; do
  if systemctl is-failed --quiet "$UNIT"; then
    journalctl -u "$UNIT" -n 30 --no-pager >&2 || true
    die "$UNIT failed on $NODE_NAME (its journal is above)"
  fi
  ((SECONDS < deadline)) || die "GET /health on $SELF_IP:$REST_PORT not 200 after ${START_TIMEOUT_SECONDS}s"
  sleep 1
done
role=replica
[[ "$(http_status "$SELF_IP" "$REST_PORT" /primary)" != 200 ]] || role=leader
echo "patroni on $NODE_NAME ($CONFIG_PATH $yml): PostgreSQL running, $role"

#!/usr/bin/env bash
# Patroni on a PostgreSQL node (pgFailover auto): writes /etc/patroni/15-main.yml and the restart
# drop-in, starts patroni@15-main and waits, bounded, until its REST API answers GET /health 200
# (PostgreSQL running: bootstrapped by this node's Patroni or cloned from the leader's).
# Patroni owns 15/main: Debian's postgresql@15-main is disabled and start.conf says `disabled`, so
# nothing starts a second postmaster. A changed file is applied by a reload (SIGHUP): a restart
# of Patroni would stop PostgreSQL and could fail over.
# Adoption: a node whose 15/main Patroni did not create is refused (a manual-mode stack switched to
# auto, README "Switching to automatic failover"), except Debian's own empty cluster, dropped.
# Once healthy, the cluster's dynamic configuration (timings, synchronous_mode, PostgreSQL
# parameters: bootstrap.dcs only counts when the cluster is made) is made DYNAMIC_CONFIG's, only
# when it differs; a parameter PostgreSQL applies only at a restart is reported, never restarted.
# Vars: PACKAGES, PATRONI_YML, DYNAMIC_CONFIG, DYNAMIC_PATH, DYNAMIC_TIMEOUT_SECONDS, SCOPE,
# DROP_IN, CONFIG_PATH, DROP_IN_PATH, UNIT, CONF_DIR, DATA_DIR, NODE_NAME, SELF_IP, REST_PORT,
# START_TIMEOUT_SECONDS, BASE_CONF, BASE_CONF_NAME, WHEEL_PATH, WHEEL_IDENTITY, PATRONI_HOME,
# PATRONI_VERSION, PATRONI_BIN, PATRONICTL_BIN, WRAPPER_PATRONI, WRAPPER_PATRONICTL,
# ETCD_HOST, ETCD_PORT.
# Patroni itself is PyPI's wheel (render/patroniRelease.ts), unpacked into PATRONI_HOME and run by
# wrappers with Debian's python3; Debian's patroni package only brings the dependencies.
set -Eeuo pipefail

readonly DEBIAN_UNIT=postgresql@15-main.service
readonly OWNED="$PVE_HA_STATE_DIR/patroni-owns-15-main"

# --- dynamic configuration: begin (scripts/ci/check-patroni.sh runs this part as it is) ---
# Uses CONFIG_PATH, DYNAMIC_PATH, DYNAMIC_TIMEOUT_SECONDS, DATA_DIR, NODE_NAME, SCOPE, SELF_IP,
# REST_PORT and lib.sh's log, die, pg_query, http_get.

# patronictl_node <args...>: patronictl as postgres with this node's file (etcd, REST credentials).
patronictl_node() {
  (cd / && runuser -u postgres -- "${PATRONICTL_BIN:-patronictl}" -c "$CONFIG_PATH" "$@")
}

# http_body <host> <port> <path>: the body of GET <path>, "" when nothing answers.
http_body() {
  local answer
  answer=$(http_get "$1" "$2" "$3")
  [[ "$answer" == *$'\r\n\r\n'* ]] && printf '%s' "${answer#*$'\r\n\r\n'}"
  return 0
}

# dynamic_patch <desired.yml>: reads the cluster's configuration (show-config) on stdin, prints
# the patch for `edit-config --apply`: the desired file, plus null (Patroni's "remove") for each
# postgresql.parameters entry the cluster has and the file has not. Keys the file does not name
# (pause, an operator's slots) stay as they are. python3 and PyYAML come with Patroni.
dynamic_patch() {
  python3 -c '
import json, sys, yaml
with open(sys.argv[1]) as f:
    desired = yaml.safe_load(f)
current = yaml.safe_load(sys.stdin) or {}
have = (current.get("postgresql") or {}).get("parameters") or {}
want = desired["postgresql"]["parameters"]
for name in sorted(set(have) - set(want)):
    want[name] = None
print(json.dumps(desired, indent=1, sort_keys=True))
' "$1"
}

# dynamic_taken: true once this node's Patroni runs with the cluster's dynamic configuration (its
# cache patroni.dynamic.json, saved after a cycle took it, equals show-config's).
dynamic_taken() {
  local current
  current=$(patronictl_node show-config 2>/dev/null) || return 1
  python3 -c '
import json, sys, yaml
with open(sys.argv[1]) as f:
    local = json.load(f)
sys.exit(0 if local == yaml.safe_load(sys.stdin) else 1)
' "$DATA_DIR/patroni.dynamic.json" <<<"$current" 2>/dev/null
}

# apply_dynamic_config: makes the cluster's dynamic configuration DYNAMIC_PATH's. `patronictl
# edit-config --apply` compares and writes only when it differs, with etcd's compare-and-swap on
# the key's revision: both nodes may run this at once, the one that loses reads again and finds
# nothing left to change. Then waits, bounded, until this node's Patroni has taken it, and says
# whether PostgreSQL here needs a restart (Patroni's pending_restart). It never restarts: a
# restart of the leader stops writes, and the order of the nodes is the operator's choice.
# Prints "dynamic configuration changed|unchanged; restart pending|no restart pending".
apply_dynamic_config() {
  local deadline=$((SECONDS + DYNAMIC_TIMEOUT_SECONDS)) current="" patch out="" state pending
  while :; do
    out=""
    if current=$(patronictl_node show-config 2>&1) \
      && patch=$(dynamic_patch "$DYNAMIC_PATH" <<<"$current") \
      && out=$(patronictl_node edit-config --apply - --force --quiet <<<"$patch" 2>&1); then
      break
    fi
    ((SECONDS < deadline)) \
      || die "the dynamic configuration was not applied after ${DYNAMIC_TIMEOUT_SECONDS}s: ${out:-$current}"
    log "dynamic configuration: trying again (${out:-$current})"
    sleep 1
  done
  state=unchanged
  [[ "$out" != *"Configuration changed"* ]] || state=changed
  log "dynamic configuration $state (patronictl -c $CONFIG_PATH show-config)"
  until dynamic_taken; do
    ((SECONDS < deadline)) \
      || die "Patroni on $NODE_NAME has not taken the cluster's dynamic configuration after" \
        "${DYNAMIC_TIMEOUT_SECONDS}s ($DATA_DIR/patroni.dynamic.json differs from show-config)"
    sleep 1
  done
  pending="no restart pending"
  if [[ "$(http_body "$SELF_IP" "$REST_PORT" /patroni)" == *'"pending_restart": true'* ]]; then
    pending="restart pending"
    log "PostgreSQL on $NODE_NAME needs a restart for a changed parameter" \
      "($(pg_query "SELECT string_agg(name, ', ' ORDER BY name) FROM pg_settings WHERE pending_restart"))," \
      "which a deploy never does: patronictl -c $CONFIG_PATH restart $SCOPE --pending restarts" \
      "each node that needs it, one after the other; the leader restarts in place (writes pause" \
      "for seconds, no failover). Until then PostgreSQL runs with the old value"
  fi
  echo "dynamic configuration $state; $pending"
}
# --- dynamic configuration: end ---

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

# The wheel, unpacked once per version. A running Patroni of another wheel is restarted below (a
# reload keeps the old code): on SIGTERM it stops PostgreSQL and hands the leader key over.
upgraded=false
if [[ "$(cat "$PATRONI_HOME/.identity" 2>/dev/null)" != "$WHEEL_IDENTITY" ]]; then
  upgraded=true
  [[ -s "$WHEEL_PATH" ]] || die "no Patroni wheel at $WHEEL_PATH"
  rm -rf "$PATRONI_HOME.new"
  python3 -m zipfile -e "$WHEEL_PATH" "$PATRONI_HOME.new"
  [[ -f "$PATRONI_HOME.new/patroni/__main__.py" ]] || die "$WHEEL_PATH holds no patroni package"
  printf '%s' "$WHEEL_IDENTITY" >"$PATRONI_HOME.new/.identity"
  rm -rf "$PATRONI_HOME"
  mv "$PATRONI_HOME.new" "$PATRONI_HOME"
  chmod -R a+rX "$PATRONI_HOME"
fi
printf '%s' "$WRAPPER_PATRONI" | write_file "$PATRONI_BIN" 0755 root:root "$UNIT" >/dev/null
printf '%s' "$WRAPPER_PATRONICTL" | write_file "$PATRONICTL_BIN" 0755 root:root >/dev/null
version=$(cd / && runuser -u postgres -- "$PATRONI_BIN" --version 2>&1) || die "$PATRONI_BIN: $version"
[[ "$version" == *" $PATRONI_VERSION" ]] || die "$PATRONI_BIN says '$version', not $PATRONI_VERSION"

# Patroni reads the etcd cluster's version once, at start: while the members still agree on it
# etcd says 3.0.0, and Patroni then runs without watches (a replica would notice a lost leader
# only at its next loop). Started after the cluster settled on 3.4.
deadline=$((SECONDS + START_TIMEOUT_SECONDS))
until [[ "$(http_get "$ETCD_HOST" "$ETCD_PORT" /version)" == *'"etcdcluster":"3.4'* ]]; do
  ((SECONDS < deadline)) || die "etcd at $ETCD_HOST:$ETCD_PORT never reported cluster version 3.4"
  sleep 1
done

printf '%s' "$BASE_CONF" | write_file "$CONF_DIR/$BASE_CONF_NAME" 0644 postgres:postgres >/dev/null
install -d -o postgres -g postgres -m 0750 "$(dirname "$CONFIG_PATH")"
yml=$(printf '%s' "$PATRONI_YML" | write_file "$CONFIG_PATH" 0600 postgres:postgres "$UNIT")
printf '%s' "$DROP_IN" | write_file "$DROP_IN_PATH" 0644 root:root >/dev/null
# --validate-config also checks that the REST API's and PostgreSQL's ports are free: only
# before Patroni runs. A running Patroni keeps its old settings if a reload brings bad ones.
if ! systemctl is-active --quiet "$UNIT"; then
  (cd / && runuser -u postgres -- "$PATRONI_BIN" --validate-config "$CONFIG_PATH") \
    || die "patroni --validate-config refuses $CONFIG_PATH"
fi
if [[ "$upgraded" == true ]] && systemctl is-active --quiet "$UNIT"; then
  log "Patroni $PATRONI_VERSION replaces the running one: restarting $UNIT"
  systemctl daemon-reload
  systemctl restart "$UNIT"
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

# Not secret (no password in it), but only postgres needs it: patronictl runs as postgres.
printf '%s' "$DYNAMIC_CONFIG" | write_file "$DYNAMIC_PATH" 0640 postgres:postgres >/dev/null
apply_dynamic_config

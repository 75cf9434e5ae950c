#!/usr/bin/env bash
# keepalived on one LB node of the pair (lbReplicas 2), after nginx-configure (the health check
# asks nginx): installs it, writes the health-check and notify scripts and the drop-in that clears
# the VRRP state textfile when keepalived stops, checks the new keepalived.conf with
# `keepalived --config-test` before it replaces the running one, then starts keepalived or
# reloads it (SIGHUP: the virtual IP stays where it is) on change. Waits (bounded) until the
# notify script has written the node's VRRP state.
# Vars: PACKAGES, KEEPALIVED_CONF, CONF_PATH, CHECK_SCRIPT, CHECK_SCRIPT_PATH, NOTIFY_SCRIPT,
# NOTIFY_SCRIPT_PATH, STATE_DROP_IN, STATE_DROP_IN_PATH, TEXTFILE_PATH.
set -Eeuo pipefail

readonly UNIT=keepalived.service
readonly STATE_WAIT_SECONDS=15

wait_network
read -r -a packages <<<"$PACKAGES"
apt_install "${packages[@]}"

# keepalived runs these as root and refuses them unless only root can change them
# (enable_script_security checks the file and every directory above it).
printf '%s' "$CHECK_SCRIPT" | write_file "$CHECK_SCRIPT_PATH" 0755 root:root >/dev/null
printf '%s' "$NOTIFY_SCRIPT" | write_file "$NOTIFY_SCRIPT_PATH" 0755 root:root >/dev/null
printf '%s' "$STATE_DROP_IN" | write_file "$STATE_DROP_IN_PATH" 0644 root:root >/dev/null

# Any finding fails the step (keepalived runs a config it only warned about, e.g. a rounded
# advert interval); the running daemon keeps its old config.
candidate=$(mktemp)
trap 'rm -f "$candidate"' EXIT
printf '%s' "$KEEPALIVED_CONF" >"$candidate"
findings=$(keepalived --config-test -f "$candidate" 2>&1) || {
  status=$?
  die "keepalived --config-test (exit $status): ${findings:-no message}"
}
[[ -z "$findings" ]] || die "keepalived --config-test: $findings"

changed=$(printf '%s' "$KEEPALIVED_CONF" | write_file "$CONF_PATH" 0644 root:root "$UNIT")
ensure_restart_policy "$UNIT"
ensure_service "$UNIT" reload

waited=0
until [[ -s "$TEXTFILE_PATH" ]]; do
  ((waited < STATE_WAIT_SECONDS)) ||
    die "keepalived wrote no VRRP state to $TEXTFILE_PATH in ${STATE_WAIT_SECONDS}s"
  sleep 1
  waited=$((waited + 1))
done
systemctl is-active --quiet "$UNIT" || die "$UNIT is not active"
echo "keepalived.conf $changed; $(grep -v '^#' "$TEXTFILE_PATH" | tr '\n' ' ')"

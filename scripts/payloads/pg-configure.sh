#!/usr/bin/env bash
# PostgreSQL settings, pg_hba.conf and the role-check agent (same on primary and standby).
# A node not set up yet (PostgreSQL not running, or running but never given the stack's settings:
# the first deploy) restarts on a settings change, so listen_addresses & co. hold before the
# primary/standby setup. A set-up node only gets the new file: pg-settings-apply reloads it or,
# where a parameter needs it, restarts the replica first, then the primary. A pg_hba change only
# reloads. Settings PostgreSQL would refuse to start with (`postgres -C`) are not left in place.
set -Eeuo pipefail

readonly CONF_DIR=/etc/postgresql/15/main
readonly CONF_FILE="$CONF_DIR/conf.d/pve-ha.conf"
readonly DATA=/var/lib/postgresql/15/main
readonly UNIT=postgresql@15-main.service
readonly APPLIED="$PVE_HA_STATE_DIR/pg-settings.applied"
readonly PREVIOUS="$PVE_HA_STATE_DIR/pve-ha.conf.previous"
[[ -d "$CONF_DIR" ]] || die "$CONF_DIR missing: postgresql-15 is not installed"

# Set up: running, and the settings were applied before (pg-settings-apply's marker or, on a stack
# deployed before the marker existed, the stack's listen_addresses: Debian's own is localhost).
set_up=false
if systemctl is-active --quiet "$UNIT" \
  && { [[ -f "$APPLIED" ]] || [[ "$(pg_query 'SHOW listen_addresses')" == '*' ]]; }; then
  set_up=true
fi

mkdir -p "$PVE_HA_STATE_DIR"
had_conf=false
if [[ -f "$CONF_FILE" ]]; then
  had_conf=true
  cp -p "$CONF_FILE" "$PREVIOUS"
fi
conf=$(printf '%s' "$PG_CONF" | write_file "$CONF_FILE" 0644 postgres:postgres)
if [[ "$conf" == changed && -f "$DATA/PG_VERSION" ]] \
  && ! refused=$(pg_conf_value data_directory 2>&1 >/dev/null); then
  if [[ "$had_conf" == true ]]; then cp -p "$PREVIOUS" "$CONF_FILE"; else rm -f "$CONF_FILE"; fi
  die "PostgreSQL refuses the rendered settings, $CONF_FILE left as it was: ${refused//$'\n'/ | }"
fi
if [[ "$conf" == changed && "$set_up" == false ]]; then
  mark_restart "$UNIT"
fi
hba=$(printf '%s' "$PG_HBA" | write_file "$CONF_DIR/pg_hba.conf" 0640 postgres:postgres)
printf '%s' "$ROLE_CHECK_SCRIPT" | write_file /usr/local/lib/pve-ha/pg-role-check 0755 root:root >/dev/null
printf '%s' "$ROLE_CHECK_SOCKET" | write_file /etc/systemd/system/pg-role-check.socket 0644 root:root pg-role-check.socket >/dev/null
printf '%s' "$ROLE_CHECK_SERVICE" | write_file /etc/systemd/system/pg-role-check@.service 0644 root:root >/dev/null

# The one place PostgreSQL gets its restart drop-in: a failover manager that owns the postmaster
# (and disables this unit) would leave this line out.
ensure_restart_policy "$UNIT"

# A standby not yet bootstrapped is left stopped by the standby step; only start what exists.
if [[ -f "$DATA/PG_VERSION" ]]; then
  ensure_service "$UNIT"
  [[ "$hba" != changed ]] || systemctl reload "$UNIT"
fi
ensure_service pg-role-check.socket
if [[ "$set_up" == true && "$conf" == changed ]]; then
  echo "postgresql configured (settings changed: applied by pg-settings-apply, replica first; pg_hba $hba)"
else
  echo "postgresql configured (settings $conf, pg_hba $hba)"
fi

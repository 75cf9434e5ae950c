#!/usr/bin/env bash
# PostgreSQL settings, pg_hba.conf and the role-check agent (same on primary and standby).
# A settings change restarts PostgreSQL; a pg_hba change only reloads it.
set -Eeuo pipefail

readonly CONF_DIR=/etc/postgresql/15/main
readonly UNIT=postgresql@15-main.service
[[ -d "$CONF_DIR" ]] || die "$CONF_DIR missing: postgresql-15 is not installed"

printf '%s' "$PG_CONF" | write_file "$CONF_DIR/conf.d/pve-ha.conf" 0644 postgres:postgres "$UNIT" >/dev/null
hba=$(printf '%s' "$PG_HBA" | write_file "$CONF_DIR/pg_hba.conf" 0640 postgres:postgres)
printf '%s' "$ROLE_CHECK_SCRIPT" | write_file /usr/local/lib/pve-ha/pg-role-check 0755 root:root >/dev/null
printf '%s' "$ROLE_CHECK_SOCKET" | write_file /etc/systemd/system/pg-role-check.socket 0644 root:root pg-role-check.socket >/dev/null
printf '%s' "$ROLE_CHECK_SERVICE" | write_file /etc/systemd/system/pg-role-check@.service 0644 root:root >/dev/null

# The one place PostgreSQL gets its restart drop-in: a failover manager that owns the postmaster
# (and disables this unit) would leave this line out.
ensure_restart_policy "$UNIT"

# A standby not yet bootstrapped is left stopped by the standby step; only start what exists.
if [[ -f /var/lib/postgresql/15/main/PG_VERSION ]]; then
  ensure_service "$UNIT"
  [[ "$hba" != changed ]] || systemctl reload "$UNIT"
fi
ensure_service pg-role-check.socket
echo "postgresql configured (pg_hba $hba)"

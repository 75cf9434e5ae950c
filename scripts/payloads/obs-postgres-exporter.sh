#!/usr/bin/env bash
# postgres_exporter on a PostgreSQL node. It runs as the OS user $EXPORTER_ROLE and logs in over
# the local socket by peer authentication as the database role of the same name (LOGIN +
# pg_monitor only). The role is created on the primary; a standby receives it by replication.
# Vars: EXPORTER_ROLE, ROLE_SQL, EXPORTER_DEFAULTS, EXPORTER_QUERIES, QUERIES_PATH.
set -Eeuo pipefail

wait_network
wait_dpkg_lock
apt_install prometheus-postgres-exporter

if ! id -u "$EXPORTER_ROLE" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$EXPORTER_ROLE"
fi

in_recovery=$(psql_su -d postgres -tA -c 'SELECT pg_is_in_recovery()')
if [[ "$in_recovery" == "f" ]]; then
  printf '%s\n' "$ROLE_SQL" | psql_su -d postgres
  log "role $EXPORTER_ROLE ensured on the primary"
fi

unit=prometheus-postgres-exporter.service
printf '%s\n' "$EXPORTER_QUERIES" | write_file "$QUERIES_PATH" 0644 root:root "$unit"
printf '%s\n' "$EXPORTER_DEFAULTS" |
  write_file /etc/default/prometheus-postgres-exporter 0644 root:root "$unit"
printf '[Service]\nUser=%s\n' "$EXPORTER_ROLE" |
  write_file "/etc/systemd/system/$unit.d/pve-ha.conf" 0644 root:root "$unit"
ensure_restart_policy "$unit"
ensure_service "$unit"
wait_tcp 127.0.0.1 9187 60
log "postgres_exporter up on :9187 as $EXPORTER_ROLE"

#!/usr/bin/env bash
# Roles (passwords from psql variables, never in the SQL text), the app database and the
# standby's replication slot on the primary. Idempotent.
set -Eeuo pipefail

readonly UNIT=postgresql@15-main.service
ensure_service "$UNIT"
for _ in $(seq 1 60); do
  psql_su -d postgres -Atc 'SELECT 1' >/dev/null 2>&1 && break
  sleep 1
done
[[ "$(psql_su -d postgres -Atc 'SELECT pg_is_in_recovery()')" == f ]] \
  || die "this node is in recovery: it is not the primary"
printf '%s' "$SETUP_SQL" | psql_su -d postgres \
  -v superuser_password="$SUPERUSER_PASSWORD" \
  -v replication_password="$REPLICATION_PASSWORD" \
  -v app_password="$APP_PASSWORD" -f -
echo "primary ready: slot $(psql_su -d postgres -Atc "SELECT slot_name FROM pg_replication_slots WHERE slot_name = '$SLOT'")"

#!/usr/bin/env bash
# Bootstraps the standby from the primary with pg_basebackup -R -S <slot> once; afterwards (a
# standby.signal is present) it only makes sure the standby runs. Never touches a primary.
set -Eeuo pipefail

readonly UNIT=postgresql@15-main.service
readonly DATA=/var/lib/postgresql/15/main
readonly PGPASS=/var/lib/postgresql/.pgpass

printf '%s:%s:replication:%s:%s\n*:%s:*:%s:%s\n' "$PRIMARY_HOST" "$PG_PORT" "$REPLICATION_USER" \
  "$REPLICATION_PASSWORD" "$PG_PORT" "$REPLICATION_USER" "$REPLICATION_PASSWORD" \
  | write_file "$PGPASS" 0600 postgres:postgres >/dev/null

if [[ -f "$DATA/standby.signal" ]]; then
  ensure_service "$UNIT"
  echo "standby already bootstrapped"
  exit 0
fi
if systemctl is-active --quiet "$UNIT" \
  && [[ "$(psql_su -d postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null)" == f ]] \
  && [[ "$(psql_su -d postgres -Atc "SELECT count(*) FROM pg_database WHERE datname = '$DATABASE'")" == 1 ]]; then
  die "this node runs a primary with database $DATABASE: refusing to overwrite it"
fi

wait_tcp "$PRIMARY_HOST" "$PG_PORT" 300
systemctl stop "$UNIT" || true
rm -rf "$DATA.basebackup"
runuser -u postgres -- pg_basebackup -h "$PRIMARY_HOST" -p "$PG_PORT" -U "$REPLICATION_USER" \
  -D "$DATA.basebackup" -X stream -S "$SLOT" -R -c fast -w
rm -rf "$DATA"
mv "$DATA.basebackup" "$DATA"
chmod 0700 "$DATA"
ensure_service "$UNIT"
for _ in $(seq 1 60); do
  [[ "$(psql_su -d postgres -Atc 'SELECT status FROM pg_stat_wal_receiver' 2>/dev/null)" == streaming ]] && break
  sleep 1
done
echo "standby: $(psql_su -d postgres -Atc 'SELECT status FROM pg_stat_wal_receiver')"

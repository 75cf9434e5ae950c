#!/usr/bin/env bash
# The app's roles and database (SETUP_SQL, passwords as psql variables, never in the SQL text) on
# whichever node Patroni made the leader (pgFailover auto); never assumes pg1. Runs on both
# PostgreSQL nodes side by side: each pass asks every node's Patroni (GET /primary); the leader
# applies the SQL (idempotent), a replica waits, bounded, until the database and the app role
# have reached it by replication. A leader change in between only means another pass.
# Vars: SETUP_SQL, SUPERUSER_PASSWORD, REPLICATION_PASSWORD, APP_PASSWORD, NODE_NAME,
# PATRONI_NODES ("name=ip ..."), REST_PORT, DATABASE, APP_USER, TIMEOUT_SECONDS.
set -Eeuo pipefail

deadline=$((SECONDS + TIMEOUT_SECONDS))
while :; do
  leaders=()
  for entry in $PATRONI_NODES; do
    [[ "$(http_status "${entry#*=}" "$REST_PORT" /primary)" != 200 ]] || leaders+=("${entry%%=*}")
  done
  if [[ "${leaders[*]}" == "$NODE_NAME" && "$(pg_query 'SELECT pg_is_in_recovery()')" == f ]]; then
    printf '%s' "$SETUP_SQL" | psql_su -d postgres \
      -v superuser_password="$SUPERUSER_PASSWORD" \
      -v replication_password="$REPLICATION_PASSWORD" \
      -v app_password="$APP_PASSWORD" -f -
    echo "app database $DATABASE set up on the leader $NODE_NAME"
    exit 0
  fi
  if ((${#leaders[@]} == 1)) && [[ "${leaders[0]}" != "$NODE_NAME" ]] \
    && [[ "$(pg_query "SELECT count(*) FROM pg_database WHERE datname = '$DATABASE'")" == 1 ]] \
    && [[ "$(pg_query "SELECT count(*) FROM pg_roles WHERE rolname = '$APP_USER'")" == 1 ]]; then
    echo "app database $DATABASE on $NODE_NAME by replication from the leader ${leaders[0]}"
    exit 0
  fi
  ((SECONDS < deadline)) \
    || die "no app database on $NODE_NAME after ${TIMEOUT_SECONDS}s (leaders by GET /primary:" \
      "${leaders[*]:-none}; in recovery: $(pg_query 'SELECT pg_is_in_recovery()'))"
  sleep 2
done

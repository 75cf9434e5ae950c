#!/usr/bin/env bash
# The backup repository node: pgbackrest.conf (both PostgreSQL nodes as pg hosts: pgBackRest
# finds the primary), the TLS server the nodes archive WAL to, the stanza, a `check` that proves
# a WAL segment reaches the repository, a first full backup when there is none, and the timers.
# Vars: REPO_CONF, RESTORE_CONF, CONF_PATH, RESTORE_CONF_PATH, REPO_PATH, STANZA, SERVER_UNIT,
# SERVER_UNIT_NAME, RUN_SCRIPT, RUN_SCRIPT_PATH, FULL_SERVICE, FULL_TIMER, INCR_SERVICE,
# INCR_TIMER, TEXTFILE_DIR.
set -Eeuo pipefail

readonly CHECK_SECONDS=180

install -d -m 0750 -o postgres -g postgres "$REPO_PATH"
install -d -m 0770 -o postgres -g postgres /var/log/pgbackrest /var/spool/pgbackrest
install -d -m 0755 "$TEXTFILE_DIR"
printf '%s' "$REPO_CONF" | write_file "$CONF_PATH" 0640 postgres:postgres "$SERVER_UNIT_NAME" >/dev/null
printf '%s' "$RESTORE_CONF" | write_file "$RESTORE_CONF_PATH" 0640 postgres:postgres >/dev/null
printf '%s' "$SERVER_UNIT" | write_file "/etc/systemd/system/$SERVER_UNIT_NAME" 0644 root:root "$SERVER_UNIT_NAME" >/dev/null
printf '%s' "$RUN_SCRIPT" | write_file "$RUN_SCRIPT_PATH" 0755 root:root >/dev/null
printf '%s' "$FULL_SERVICE" | write_file /etc/systemd/system/pgbackrest-full.service 0644 root:root >/dev/null
printf '%s' "$FULL_TIMER" | write_file /etc/systemd/system/pgbackrest-full.timer 0644 root:root pgbackrest-full.timer >/dev/null
printf '%s' "$INCR_SERVICE" | write_file /etc/systemd/system/pgbackrest-incr.service 0644 root:root >/dev/null
printf '%s' "$INCR_TIMER" | write_file /etc/systemd/system/pgbackrest-incr.timer 0644 root:root pgbackrest-incr.timer >/dev/null
ensure_service "$SERVER_UNIT_NAME"

pgbr() {
  (cd / && runuser -u postgres -- pgbackrest --stanza="$STANZA" "$@")
}

# The PostgreSQL nodes' TLS servers may still be starting: retry, bounded.
deadline=$((SECONDS + CHECK_SECONDS))
until out=$(pgbr stanza-create 2>&1); do
  ((SECONDS < deadline)) || die "pgbackrest stanza-create failed for ${CHECK_SECONDS}s: $out"
  sleep 3
done
# check: the primary switches WAL and the segment must arrive in the archive.
until out=$(pgbr check 2>&1); do
  ((SECONDS < deadline)) || die "pgbackrest check (WAL archive) failed for ${CHECK_SECONDS}s: $out"
  sleep 3
done

if ! pgbr info --output=json | grep -q '"label"'; then
  log "no backup yet: taking the first full backup"
  systemctl start pgbackrest-full.service || die "first full backup failed: $(journalctl -u pgbackrest-full.service -n 20 --no-pager 2>&1)"
fi
ensure_service pgbackrest-full.timer
ensure_service pgbackrest-incr.timer
pgbr info | sed -n '1,12p'

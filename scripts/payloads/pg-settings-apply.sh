#!/usr/bin/env bash
# Applies the rendered PostgreSQL settings (CONF_FILE, written by pg-configure) to the running
# server of this node, in one of two passes that each go node after node. PASS=replica acts only
# on a node that is in recovery now; PASS=primary on the node that is the primary now (and on a
# replica the replica pass has not applied them to, should the roles have changed in between).
# Acting: reload; if a parameter needs a restart (pg_settings.pending_restart), restart and wait,
# bounded, until the node is healthy again: a replica streaming from the primary; the primary
# accepting writes and, if one streamed from it before, a replica streaming from it again.
# Prints what it did and which parameters needed the restart.
set -Eeuo pipefail

readonly UNIT=postgresql@15-main.service
readonly APPLIED="$PVE_HA_STATE_DIR/pg-settings.applied"
readonly PG_LOG=/var/log/postgresql/postgresql-15-main.log

# FAILOVER-MANAGER HOOK. With manual failover the primary restarts in place: a few seconds
# without writes, which the app's Kafka-first write path absorbs (a POST is acknowledged once
# Kafka has it; the consumer retries the insert). An automatic-failover manager would switch
# over to the streaming replica here instead and restart this node as the new replica.
switchover_before_primary_restart() {
  log "no failover manager: restarting the primary $NODE_NAME in place (writes pause until it is back)"
}

restart_unit() {
  systemctl restart "$UNIT" \
    || die "restart of $UNIT on $NODE_NAME failed; its log ends: $(tail -n 3 "$PG_LOG" 2>/dev/null | tr '\n' ' ')"
}

# PostgreSQL stops a replica's recovery when one of these is below the primary's value (recorded
# in the control file): a lower value must reach the primary first, and this order restarts the
# replica first. Refuse before restarting anything.
check_not_below_primary() {
  local param label new current
  for param in max_connections max_worker_processes max_wal_senders max_prepared_transactions \
    max_locks_per_transaction; do
    [[ ", $pending, " == *", $param, "* ]] || continue
    case "$param" in
      max_prepared_transactions) label=max_prepared_xacts ;;
      max_locks_per_transaction) label=max_locks_per_xact ;;
      *) label=$param ;;
    esac
    new=$(pg_conf_value "$param" 2>/dev/null) || new=""
    current=$(pg_control_setting "$label")
    if [[ "$new" =~ ^[0-9]+$ && "$current" =~ ^[0-9]+$ ]] && ((new < current)); then
      die "$param $new is below the primary's $current: a replica does not run with that, so the" \
        "primary must restart first, and this update restarts the replica $NODE_NAME first;" \
        "restart the primary by hand (systemctl restart $UNIT, its file is written), then run the update again"
    fi
  done
}

restart_replica() {
  local was_streaming=false in_recovery receiver deadline
  [[ "$(pg_query 'SELECT status FROM pg_stat_wal_receiver')" != streaming ]] || was_streaming=true
  check_not_below_primary
  log "restarting the replica $NODE_NAME (restart needed for: $pending)"
  restart_unit
  [[ "$was_streaming" == true ]] \
    || log "warning: $NODE_NAME was not streaming before its restart: waiting only for recovery"
  deadline=$((SECONDS + RESTART_TIMEOUT_SECONDS))
  while :; do
    in_recovery=$(pg_query 'SELECT pg_is_in_recovery()')
    receiver=$(pg_query 'SELECT status FROM pg_stat_wal_receiver')
    if [[ "$in_recovery" == t && ("$was_streaming" == false || "$receiver" == streaming) ]]; then
      break
    fi
    ((SECONDS < deadline)) \
      || die "replica $NODE_NAME not streaming from the primary ${RESTART_TIMEOUT_SECONDS}s after its restart (in recovery: ${in_recovery:-no answer}, WAL receiver: ${receiver:-none})"
    sleep 1
  done
}

restart_primary() {
  local replicas_before writable xid streaming deadline
  replicas_before=$(pg_query "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
  switchover_before_primary_restart
  log "restarting the primary $NODE_NAME (restart needed for: $pending)"
  restart_unit
  deadline=$((SECONDS + RESTART_TIMEOUT_SECONDS))
  while :; do
    writable=$(pg_query 'SELECT NOT pg_is_in_recovery()')
    xid=""
    [[ "$writable" != t ]] || xid=$(pg_query 'SELECT txid_current()')
    if [[ "$writable" == t && -n "$xid" ]]; then break; fi
    ((SECONDS < deadline)) \
      || die "primary $NODE_NAME does not accept writes ${RESTART_TIMEOUT_SECONDS}s after its restart (not in recovery: ${writable:-no answer}, txid_current: ${xid:-no answer})"
    sleep 1
  done
  if ((${replicas_before:-0} == 0)); then
    log "warning: no replica streamed from $NODE_NAME before its restart: not waiting for one"
    return 0
  fi
  while :; do
    streaming=$(pg_query "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
    if ((${streaming:-0} > 0)); then break; fi
    ((SECONDS < deadline)) \
      || die "no replica streams from the primary $NODE_NAME ${RESTART_TIMEOUT_SECONDS}s after its restart (pg_stat_replication: $(pg_query "SELECT string_agg(application_name || ' ' || state, ', ') FROM pg_stat_replication"))"
    sleep 1
  done
}

[[ "$PASS" == replica || "$PASS" == primary ]] || die "PASS must be replica or primary (got $PASS)"
[[ -f "$CONF_FILE" ]] || die "$CONF_FILE missing on $NODE_NAME: pg-configure has not run"
actual=$(sha256sum "$CONF_FILE" | cut -d' ' -f1)
[[ "$actual" == "$SETTINGS_SHA256" ]] \
  || die "$CONF_FILE on $NODE_NAME is not the rendered one (sha256 $actual, want $SETTINGS_SHA256): pg-configure has not written it"

deadline=$((SECONDS + ANSWER_TIMEOUT_SECONDS))
until [[ "$(pg_query 'SELECT 1')" == 1 ]]; do
  ((SECONDS < deadline)) \
    || die "PostgreSQL on $NODE_NAME does not answer after ${ANSWER_TIMEOUT_SECONDS}s ($UNIT: $(systemctl is-active "$UNIT" 2>/dev/null || true))"
  sleep 1
done
case "$(pg_query 'SELECT pg_is_in_recovery()')" in
  t) role=replica ;;
  f) role=primary ;;
  *) die "PostgreSQL on $NODE_NAME does not say whether it is in recovery" ;;
esac
summary="pg-settings $PASS pass on $NODE_NAME ($role now)"
if [[ "$PASS" == replica && "$role" == primary ]]; then
  echo "$summary: nothing; the primary pass applies them"
  exit 0
fi
if [[ "$PASS" == primary && "$role" == replica \
  && "$(cat "$APPLIED" 2>/dev/null || true)" == "$SETTINGS_SHA256" ]]; then
  echo "$summary: nothing; the replica pass applied them"
  exit 0
fi

if ! refused=$(pg_conf_value data_directory 2>&1 >/dev/null); then
  die "PostgreSQL on $NODE_NAME refuses the settings in $CONF_FILE, nothing reloaded or restarted: ${refused//$'\n'/ | }"
fi
loaded=$(pg_query 'SELECT pg_conf_load_time()')
[[ -n "$loaded" && "$(pg_query 'SELECT pg_reload_conf()')" == t ]] \
  || die "pg_reload_conf() failed on $NODE_NAME"
deadline=$((SECONDS + RELOAD_TIMEOUT_SECONDS))
until now=$(pg_query 'SELECT pg_conf_load_time()') && [[ -n "$now" && "$now" != "$loaded" ]]; do
  ((SECONDS < deadline)) \
    || die "PostgreSQL on $NODE_NAME did not reload its configuration within ${RELOAD_TIMEOUT_SECONDS}s"
  sleep 1
done
pending=$(pg_query "SELECT string_agg(name, ', ' ORDER BY name) FROM pg_settings WHERE pending_restart")
done_what=reloaded
if [[ -n "$pending" ]]; then
  if [[ "$role" == replica ]]; then restart_replica; else restart_primary; fi
  left=$(pg_query "SELECT string_agg(name, ', ' ORDER BY name) FROM pg_settings WHERE pending_restart")
  [[ -z "$left" ]] || die "$NODE_NAME still has a restart pending for $left after its restart"
  done_what="restarted (restart needed for: $pending)"
fi
printf '%s\n' "$SETTINGS_SHA256" | write_file "$APPLIED" 0644 root:root >/dev/null
echo "$summary: $done_what"

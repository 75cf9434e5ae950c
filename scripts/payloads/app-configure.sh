#!/usr/bin/env bash
# The app's system user, env file (holds PG_PASSWORD: mode 0640) and unit; starts or restarts
# the service and waits (READY_TIMEOUT_SECONDS) until its readiness answers 200 with every line of
# READY_NEEDLES in the body (database, Kafka and the consumer ok), after a restart also the LB's
# fail_timeout (LB_SETTLE_SECONDS): the next app node's update waits for this one (rolling).
set -Eeuo pipefail

readonly UNIT=pve-ha-app.service
[[ -x /opt/node/bin/node ]] || die "/opt/node/bin/node missing: the node artifact is not unpacked"
[[ -f /opt/pve-ha-app/dist/server.js ]] || die "/opt/pve-ha-app/dist/server.js missing"
id -u pve-ha-app >/dev/null 2>&1 \
  || useradd --system --home-dir /opt/pve-ha-app --shell /usr/sbin/nologin pve-ha-app
printf '%s' "$APP_ENV" | write_file /etc/pve-ha-app/app.env 0640 root:pve-ha-app "$UNIT" >/dev/null
printf '%s' "$APP_UNIT" | write_file /etc/systemd/system/pve-ha-app.service 0644 root:root "$UNIT" >/dev/null
[[ "$ARTIFACT_IDENTITY" == "$(cat /var/lib/pve-ha/app.identity 2>/dev/null)" ]] || mark_restart "$UNIT"
echo "$ARTIFACT_IDENTITY" | write_file /var/lib/pve-ha/app.identity 0644 root:root >/dev/null
restarting=false
[[ -f "$PVE_HA_RESTART_DIR/$UNIT" ]] && systemctl is-active --quiet "$UNIT" && restarting=true
ensure_service "$UNIT"
mapfile -t needles <<<"$READY_NEEDLES"
wait_http_ready 127.0.0.1 "$APP_PORT" "$READY_PATH" "$READY_TIMEOUT_SECONDS" "${needles[@]}"
if [[ "$restarting" == true ]]; then
  # The LB skips a node for its fail_timeout after a failed try: the node restarted here may be
  # skipped that long, and the next node must not go down before the LB uses this one again.
  sleep "$LB_SETTLE_SECONDS"
fi
echo "app ready on :$APP_PORT"

#!/usr/bin/env bash
# The LB's active check of the app nodes (lbProbeIntervalMs), after nginx-configure: writes the
# loop and its unit, (re)starts it when either changed and waits (bounded) until it runs.
# Vars: SCRIPT, SCRIPT_PATH, UNIT, UNIT_TEXT, UNIT_PATH.
set -Eeuo pipefail

readonly ACTIVE_WAIT_SECONDS=10

bash -n <(printf '%s' "$SCRIPT") || die "the rendered watch script is not valid bash"
printf '%s' "$SCRIPT" | write_file "$SCRIPT_PATH" 0755 root:root "$UNIT" >/dev/null
changed=$(printf '%s' "$UNIT_TEXT" | write_file "$UNIT_PATH" 0644 root:root "$UNIT")
ensure_service "$UNIT"

waited=0
until systemctl is-active --quiet "$UNIT"; do
  ((waited < ACTIVE_WAIT_SECONDS)) || die "$UNIT is not active after ${ACTIVE_WAIT_SECONDS}s"
  sleep 1
  waited=$((waited + 1))
done
echo "upstream watch unit $changed, active"

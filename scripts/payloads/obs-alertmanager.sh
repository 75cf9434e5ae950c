#!/usr/bin/env bash
# Alertmanager on the monitor node (:9093, single instance: no cluster port).
# Vars: ALERTMANAGER_YML, ALERTMANAGER_DEFAULTS, CONFIG_PATH.
set -Eeuo pipefail

wait_network
wait_dpkg_lock
apt_install prometheus-alertmanager
unit=prometheus-alertmanager.service
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '%s\n' "$ALERTMANAGER_YML" >"$tmp"
amtool check-config "$tmp" >&2 || die "rendered alertmanager.yml is invalid"
write_file "$CONFIG_PATH" 0644 root:root "$unit" <"$tmp"
printf '%s\n' "$ALERTMANAGER_DEFAULTS" |
  write_file /etc/default/prometheus-alertmanager 0644 root:root "$unit"
ensure_restart_policy "$unit"
ensure_service "$unit"
wait_tcp 127.0.0.1 9093 60
log "alertmanager up on :9093"

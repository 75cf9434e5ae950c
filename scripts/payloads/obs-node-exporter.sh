#!/usr/bin/env bash
# node_exporter on every node (Debian's prometheus-node-exporter), listening on :9100.
# Vars: NODE_EXPORTER_DEFAULTS (content of /etc/default/prometheus-node-exporter).
set -Eeuo pipefail

wait_network
wait_dpkg_lock
apt_install prometheus-node-exporter
printf '%s\n' "$NODE_EXPORTER_DEFAULTS" |
  write_file /etc/default/prometheus-node-exporter 0644 root:root prometheus-node-exporter.service
ensure_restart_policy prometheus-node-exporter.service
ensure_service prometheus-node-exporter.service
wait_tcp 127.0.0.1 9100 60
log "node_exporter up on :9100"

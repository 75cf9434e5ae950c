#!/usr/bin/env bash
# nginx-prometheus-exporter on the load balancer: reads nginx stub_status on loopback, serves :9113.
# Vars: NGINX_EXPORTER_DEFAULTS, STUB_STATUS_PORT.
set -Eeuo pipefail

wait_network
wait_dpkg_lock
apt_install prometheus-nginx-exporter
# The exporter gives up at start when stub_status does not answer: nginx must serve it first.
wait_tcp 127.0.0.1 "$STUB_STATUS_PORT" 60
printf '%s\n' "$NGINX_EXPORTER_DEFAULTS" |
  write_file /etc/default/prometheus-nginx-exporter 0644 root:root prometheus-nginx-exporter.service
ensure_restart_policy prometheus-nginx-exporter.service
ensure_service prometheus-nginx-exporter.service
wait_tcp 127.0.0.1 9113 60
log "nginx exporter up on :9113"

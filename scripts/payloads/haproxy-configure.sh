#!/usr/bin/env bash
# Writes haproxy.cfg, checks it with haproxy -c and reloads HAProxy on change.
set -Eeuo pipefail

changed=$(printf '%s' "$HAPROXY_CFG" | write_file /etc/haproxy/haproxy.cfg 0644 root:root haproxy)
haproxy -c -q -f /etc/haproxy/haproxy.cfg
ensure_restart_policy haproxy.service
ensure_service haproxy reload
echo "haproxy.cfg $changed"

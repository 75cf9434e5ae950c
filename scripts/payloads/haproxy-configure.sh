#!/usr/bin/env bash
# Writes haproxy.cfg, checks it with haproxy -c and reloads HAProxy on change.
set -Eeuo pipefail

changed=$(printf '%s' "$HAPROXY_CFG" | write_file /etc/haproxy/haproxy.cfg 0644 root:root)
haproxy -c -q -f /etc/haproxy/haproxy.cfg
systemctl enable --quiet haproxy
if ! systemctl is-active --quiet haproxy; then
  systemctl start haproxy
elif [[ "$changed" == changed ]]; then
  systemctl reload haproxy
fi
echo "haproxy.cfg $changed"

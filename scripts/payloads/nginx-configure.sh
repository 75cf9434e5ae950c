#!/usr/bin/env bash
# Writes the load balancer's nginx.conf, checks it with nginx -t and reloads nginx on change.
set -Eeuo pipefail

changed=$(printf '%s' "$NGINX_CONF" | write_file /etc/nginx/nginx.conf 0644 root:root)
rm -f /etc/nginx/sites-enabled/default
nginx -t -q
systemctl enable --quiet nginx
if ! systemctl is-active --quiet nginx; then
  systemctl start nginx
elif [[ "$changed" == changed ]]; then
  systemctl reload nginx
fi
echo "nginx.conf $changed"

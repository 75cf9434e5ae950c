#!/usr/bin/env bash
# Writes the load balancer's nginx.conf, checks it with nginx -t and reloads nginx on change.
set -Eeuo pipefail

changed=$(printf '%s' "$NGINX_CONF" | write_file /etc/nginx/nginx.conf 0644 root:root nginx)
rm -f /etc/nginx/sites-enabled/default
nginx -t -q
ensure_restart_policy nginx.service
ensure_service nginx reload
echo "nginx.conf $changed"

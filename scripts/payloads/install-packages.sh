#!/usr/bin/env bash
# Installs the role's Debian packages ($PACKAGES, space separated). For PostgreSQL nodes
# $CREATECLUSTER_CONF is written first, so the cluster created at install time has checksums.
set -Eeuo pipefail

wait_network
if [[ -n "$CREATECLUSTER_CONF" ]]; then
  printf '%s' "$CREATECLUSTER_CONF" | write_file /etc/postgresql-common/createcluster.conf 0644 root:root >/dev/null
fi
read -r -a packages <<<"$PACKAGES"
apt_install "${packages[@]}"
echo "packages: ${packages[*]}"

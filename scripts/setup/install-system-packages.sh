#!/usr/bin/env bash
# Installs the Debian 12 packages the tests need: the real tools that check rendered configs
# (nginx, haproxy, keepalived, PostgreSQL 15, promtool, amtool, shellcheck, nft, etcd + Patroni),
# the servers of the app's integration tests (PostgreSQL 15, a JRE for Kafka), the sandbox (lxc,
# debootstrap) and the build tools of the artifacts (maven, go from the machine). Services are not
# started.
set -Eeuo pipefail

packages=(
  ca-certificates curl jq git rsync
  nginx haproxy postgresql-15 postgresql-client-15
  # only `keepalived --config-test` runs; its unit does not start without /etc/keepalived/keepalived.conf
  keepalived
  prometheus prometheus-alertmanager
  prometheus-node-exporter prometheus-postgres-exporter prometheus-nginx-exporter
  shellcheck nftables
  # pgFailover auto (scripts/ci/check-patroni.sh): etcd 3.4 and Debian's patroni (its dependencies)
  # as the PG nodes get them; pip fetches the Patroni wheel they run (scripts/artifacts/fetch-patroni.sh)
  etcd-server etcd-client patroni python3-etcd python3-pip
  openjdk-17-jre-headless maven
  lxc debootstrap iproute2 apt-utils dpkg-dev
  librsvg2-bin fonts-dejavu-core
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  echo "system packages: all present"
  exit 0
fi

# Keep package installs from starting services on this machine (restored on exit).
policy=/usr/sbin/policy-rc.d
had_policy=false
[[ -e $policy ]] && had_policy=true
if [[ $had_policy == false ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

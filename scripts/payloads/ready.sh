#!/usr/bin/env bash
# First step on every container: waits for systemd, the network and the dpkg lock, then
# replaces the apt sources if the stack sets its own (a local mirror).
set -Eeuo pipefail

wait_systemd
wait_network
wait_dpkg_lock
if [[ -n "$APT_SOURCES" ]]; then
  printf '%s\n' "$APT_SOURCES" | write_file /etc/apt/sources.list 0644 root:root >/dev/null
  rm -f /etc/apt/sources.list.d/debian.sources
fi
mkdir -p "$PVE_HA_STATE_DIR"
echo "ready: $(hostname) $(hostname -I)"

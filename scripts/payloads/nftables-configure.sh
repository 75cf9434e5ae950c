#!/usr/bin/env bash
# The container's own firewall (containerFirewall), the last step of the node: installs nftables,
# checks the ruleset rendered from the exposure rules (NFT_RULESET, one table inet pve_ha that
# replaces itself) with `nft -c -f` before anything changes, keeps it as /etc/nftables.conf
# (loaded at boot by nftables.service, enabled here) and loads it when it changed or the table is
# missing. Loading it again is harmless (the file deletes and re-creates its own table only;
# established connections pass on).
# Vars: PACKAGES, NFT_RULESET, CONF_PATH, SYSCTL_PATH, NFT_TABLE.
set -Eeuo pipefail

wait_network
read -r -a packages <<<"$PACKAGES"
apt_install "${packages[@]}"

candidate=$(mktemp)
trap 'rm -f "$candidate"' EXIT
printf '%s' "$NFT_RULESET" >"$candidate"
findings=$(nft -c -f "$candidate" 2>&1) || die "nft -c refused the ruleset: ${findings:-no message}"

# The first load starts connection tracking in the container's network namespace while the node's
# connections are open. Conntrack then meets them mid-stream, without the SYN's window scale, and
# calls their full-window packets invalid: `ct state established` stops passing them and a long-
# lived connection (Kafka replication, seen in the sandbox: the follower left the ISR) stalls.
# Liberal TCP tracking accepts out-of-window packets of a known flow; the rules still decide which
# flows may start.
conntrack_liberal=/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal
liberal() { if [[ -w "$conntrack_liberal" ]]; then echo 1 >"$conntrack_liberal"; fi; }
write_file "$SYSCTL_PATH" 0644 root:root <<<"net.netfilter.nf_conntrack_tcp_be_liberal = 1" >/dev/null
liberal
changed=$(write_file "$CONF_PATH" 0644 root:root <"$candidate")
if [[ "$changed" == changed ]] || ! nft list table inet "$NFT_TABLE" >/dev/null 2>&1; then
  nft -f "$CONF_PATH"
  log "ruleset loaded (table inet $NFT_TABLE)"
fi
liberal
[[ "$(cat "$conntrack_liberal" 2>/dev/null)" == 1 ]] ||
  die "cannot set $conntrack_liberal: open connections would stall under the new rules"

systemctl enable --quiet nftables.service
echo "nftables $changed"

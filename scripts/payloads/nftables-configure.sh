#!/usr/bin/env bash
# The container's own firewall (containerFirewall), the last step of the node: installs nftables,
# checks the ruleset rendered from the exposure rules (NFT_RULESET, one table inet pve_ha that
# replaces itself) with `nft -c -f` before anything changes, keeps it as /etc/nftables.conf
# (loaded at boot by nftables.service, enabled here) and loads it when it changed or the table is
# missing. Loading it again is harmless (the file deletes and re-creates its own table only;
# established connections pass on).
# Vars: PACKAGES, NFT_RULESET, CONF_PATH, NFT_TABLE.
set -Eeuo pipefail

wait_network
read -r -a packages <<<"$PACKAGES"
apt_install "${packages[@]}"

candidate=$(mktemp)
trap 'rm -f "$candidate"' EXIT
printf '%s' "$NFT_RULESET" >"$candidate"
findings=$(nft -c -f "$candidate" 2>&1) || die "nft -c refused the ruleset: ${findings:-no message}"

changed=$(write_file "$CONF_PATH" 0644 root:root <"$candidate")
if [[ "$changed" == changed ]] || ! nft list table inet "$NFT_TABLE" >/dev/null 2>&1; then
  nft -f "$CONF_PATH"
  log "ruleset loaded (table inet $NFT_TABLE)"
fi
systemctl enable --quiet nftables.service
echo "nftables $changed"

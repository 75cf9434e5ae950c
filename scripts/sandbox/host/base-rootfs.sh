#!/usr/bin/env bash
# Builds the cached Debian 12 base rootfs once: base-rootfs.sh <cache-dir>
# Prints the rootfs path. Re-running with a complete rootfs does nothing.
set -Eeuo pipefail

readonly CACHE_DIR="${1:?usage: base-rootfs.sh <cache-dir>}"
readonly ROOTFS="$CACHE_DIR/rootfs-bookworm"
readonly DONE_MARKER="$CACHE_DIR/rootfs-bookworm.done"
readonly INCLUDE="systemd,systemd-sysv,dbus,iproute2,iputils-ping,ca-certificates,curl,procps,less,locales,gnupg"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ -f "$DONE_MARKER" ]]; then
  echo "$ROOTFS"
  exit 0
fi
mkdir -p "$CACHE_DIR"
rm -rf "$ROOTFS"
mirror="$("$here/host-mirror.sh")"
debootstrap --variant=minbase --include="$INCLUDE" bookworm "$ROOTFS" "$mirror" >&2
# Containers have no route out: no apt source of their own until the sandbox repo is set.
: >"$ROOTFS/etc/apt/sources.list"
rm -f "$ROOTFS/etc/apt/sources.list.d/"*
echo "en_US.UTF-8 UTF-8" >"$ROOTFS/etc/locale.gen"
chroot "$ROOTFS" locale-gen >&2
# Units that make no sense in a container without hardware or a getty.
for unit in systemd-timesyncd.service getty@tty1.service console-getty.service; do
  chroot "$ROOTFS" systemctl mask "$unit" >/dev/null 2>&1 || true
done
touch "$DONE_MARKER"
echo "$ROOTFS"

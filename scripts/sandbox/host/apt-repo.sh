#!/usr/bin/env bash
# Builds the sandbox's offline apt repository: apt-repo.sh <base-rootfs> <repo-dir> <package>...
# Resolves the packages against the base rootfs's dpkg status with this host's apt sources, downloads
# every .deb the rootfs lacks into <repo-dir> and indexes it as a flat repository. Idempotent: an
# unchanged package list does nothing.
set -Eeuo pipefail

readonly ROOTFS="${1:?usage: apt-repo.sh <base-rootfs> <repo-dir> <package>...}"
mkdir -p "${2:?usage: apt-repo.sh <base-rootfs> <repo-dir> <package>...}"
REPO_DIR="$(cd "$2" && pwd)"
readonly REPO_DIR
shift 2
(($# > 0)) || { echo "apt-repo.sh: no packages given" >&2; exit 1; }
[[ -f "$ROOTFS/var/lib/dpkg/status" ]] || { echo "not a Debian rootfs: $ROOTFS" >&2; exit 1; }

wanted="$(printf '%s\n' "$@" | sort -u)"
stamp="$(printf '%s\n' "$wanted" | sha256sum | cut -d' ' -f1)"
if [[ -f "$REPO_DIR/Release" && "$(cat "$REPO_DIR/.packages.sha256" 2>/dev/null)" == "$stamp" ]]; then
  echo "apt repo up to date: $(find "$REPO_DIR" -name '*.deb' | wc -l) packages"
  exit 0
fi

mkdir -p "$REPO_DIR/partial"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$ROOTFS/var/lib/dpkg/status" "$work/status"
# shellcheck disable=SC2086 # the package list is meant to split into words
apt-get install -y -q --download-only --no-install-recommends \
  -o Dir::State::status="$work/status" \
  -o Dir::Cache="$work/cache" \
  -o Dir::Cache::archives="$REPO_DIR" \
  -o Debug::NoLocking=true \
  $wanted
rm -rf "$REPO_DIR/partial" "$REPO_DIR/lock"
(
  cd "$REPO_DIR"
  apt-ftparchive packages . >Packages
  apt-ftparchive release . >Release
)
echo "$stamp" >"$REPO_DIR/.packages.sha256"
echo "apt repo built: $(find "$REPO_DIR" -name '*.deb' | wc -l) packages"

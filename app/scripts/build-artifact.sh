#!/usr/bin/env bash
# Builds dist/pve-ha-app.tgz: top directory pve-ha-app/ with package.json, dist/*.js and the
# production node_modules, the artifact the app nodes unpack to /opt/pve-ha-app.
set -Eeuo pipefail

app_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$app_dir/dist/pve-ha-app.tgz"

log() { printf 'build-artifact: %s\n' "$*" >&2; }

cd "$app_dir"
mkdir -p build dist
# Two builds at once (a test run and a deploy) would delete each other's files.
exec 9>build/.artifact.lock
flock 9

stage_root=$(mktemp -d "$app_dir/build/artifact.XXXXXX")
trap 'rm -rf "$stage_root"' EXIT
stage="$stage_root/pve-ha-app"

log "compiling TypeScript"
npx --no-install tsc -p tsconfig.json

mkdir -p "$stage"
cp package.json package-lock.json "$stage/"
cp -R dist "$stage/dist"
find "$stage/dist" -type f ! -name '*.js' -delete
[[ -f $stage/dist/server.js ]] || {
  log "error: dist/server.js was not built"
  exit 1
}

log "installing production dependencies"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)

tar -C "$stage_root" --sort=name --mtime='@0' --owner=0 --group=0 --numeric-owner \
  -cf - pve-ha-app | gzip -n >"$out.tmp"
mv "$out.tmp" "$out"
log "wrote $out ($(du -h "$out" | cut -f1))"

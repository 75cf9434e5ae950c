#!/usr/bin/env bash
# Installs the project's npm dependencies and the Node.js 24 runtime (npm package `node`, put in
# node_modules/.bin). Install scripts are skipped because the Pulumi packages' plugin installers
# need the internet and tests under mocks need no plugin; only `node`'s own installer runs.
set -Eeuo pipefail
cd "$(dirname "$0")/../.."

npm ci --ignore-scripts --no-audit --no-fund
npm rebuild node
export PATH="$PWD/node_modules/.bin:$PATH"
if [[ -f app/package-lock.json ]]; then
  npm --prefix app ci --no-audit --no-fund
fi

#!/usr/bin/env bash
# Installs the project's npm dependencies and the Node.js 24 runtime (npm package `node`, put in
# node_modules/.bin), then app/'s. Install scripts are skipped because the Pulumi packages' plugin
# installers need the internet and tests under mocks need no plugin; only `node`'s own installer
# runs. A tree already installed from the same lock file is left as it is.
# Usage: install-node-deps.sh [--app-only]
set -Eeuo pipefail
cd "$(dirname "$0")/../.."

# install_once DIR CMD...: runs CMD unless DIR/node_modules was installed from this lock file.
install_once() {
  local dir="$1"
  shift
  local stamp="$dir/node_modules/.installed-from-lock"
  local want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    echo "node dependencies of ${dir}: up to date"
    return 0
  fi
  "$@"
  echo "$want" >"$stamp"
}

root_deps() {
  npm ci --ignore-scripts --no-audit --no-fund
  npm rebuild node
}

if [[ ${1:-} != --app-only ]]; then
  install_once . root_deps
fi
export PATH="$PWD/node_modules/.bin:$PATH"
if [[ -f app/package-lock.json ]]; then
  install_once app npm --prefix app ci --no-audit --no-fund
fi

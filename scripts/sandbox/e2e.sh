#!/usr/bin/env bash
# End-to-end test of the stack in local LXC containers: `up` (which ends with the status checks),
# `status` once more, then `down` -- also when a step fails. Needs root, lxc and debootstrap.
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"

sandbox() {
  npm run --silent sandbox -- "$@"
}

cleanup() {
  local rc=$?
  echo "==> e2e: down (exit status so far: $rc)"
  sandbox down || rc=1
  exit "$rc"
}
trap cleanup EXIT

started=$SECONDS
sandbox up
echo "==> e2e: cold up took $((SECONDS - started)) s"
warm=$SECONDS
sandbox up
echo "==> e2e: warm re-run took $((SECONDS - warm)) s"
sandbox status
echo "e2e: passed"

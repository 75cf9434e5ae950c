#!/usr/bin/env bash
# End-to-end test of the stack in local LXC containers: `up` (which ends with the status checks),
# a warm re-run that must change nothing, `status` once more, then `down` -- also when a step
# fails. Needs root, lxc and debootstrap; removes any sandbox that is already up.
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"

sandbox() {
  npm run --silent sandbox -- "$@"
}

warm_log="$(mktemp)"

cleanup() {
  local rc=$?
  rm -f "$warm_log"
  echo "==> e2e: down (exit status so far: $rc)"
  sandbox down || rc=1
  exit "$rc"
}
trap cleanup EXIT

# Start from nothing: a sandbox left over from an earlier run is removed first.
sandbox down
started=$SECONDS
# The README's newcomer command: installs what it needs, builds the artifacts, deploys.
bash scripts/up-sandbox.sh
echo "==> e2e: cold up took $((SECONDS - started)) s"
# The drills stop and restart nodes under load; the warm re-run and status after them show the
# stack came back whole. Extra drill options: E2E_DRILL_ARGS (e.g. "--scenarios 1,3").
# shellcheck disable=SC2086 # the options are meant to split into words
npm run --silent drill -- --target sandbox --out "${E2E_DRILL_OUT:-reports/drill}" ${E2E_DRILL_ARGS:-}
warm=$SECONDS
sandbox up | tee "$warm_log"
echo "==> e2e: warm re-run took $((SECONDS - warm)) s"
# A second `up` must change nothing.
grep -q "resources performed: 0," "$warm_log" || {
  echo "e2e: the warm re-run performed resources again" >&2
  exit 1
}
sandbox status
echo "e2e: passed"

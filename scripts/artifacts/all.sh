#!/usr/bin/env bash
# Builds or fetches every local artifact into .cache/artifacts/ (idempotent). Runs all steps even if
# one fails, then lists the failures and exits non-zero. kafka_exporter is optional: its failure is
# reported, not fatal.
set -Eeuo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# The project's Node (npm package `node`), whatever node the shell has.
export PATH="$root/node_modules/.bin:$PATH"
failed=()

# step NAME CMD...: runs CMD, reports its time; a failure is collected, unless OPTIONAL=1.
step() {
  local name="$1"
  shift
  local started=$SECONDS
  if "$@" >&2; then
    echo "artifact $name: ok ($((SECONDS - started)) s)"
  elif [[ ${OPTIONAL:-0} == 1 ]]; then
    echo "artifact $name: not built, optional ($((SECONDS - started)) s)"
  else
    echo "artifact $name: FAILED ($((SECONDS - started)) s)" >&2
    failed+=("$name")
  fi
}

step kafka bash "$here/fetch-kafka.sh"
step jmxAgent bash "$here/fetch-jmx-agent.sh"
step patroni bash "$here/fetch-patroni.sh"
# The Go module proxy may refuse kafka_exporter (it does from some networks); the stack's default
# is then its pinned release URL, or kafkaExporterEnabled=false where nothing can be downloaded.
OPTIONAL=1 step kafkaExporter bash "$here/build-kafka-exporter.sh"
step node bash "$here/fetch-node.sh"
# The app builds app/dist/pve-ha-app.tgz; the artifact lives beside the others.
build_app() {
  local out="${ARTIFACTS_DIR:-$root/.cache/artifacts}/pve-ha-app.tgz"
  # The bundle compiles against app/'s own dependencies: install them on a fresh clone.
  bash "$root/scripts/setup/install-node-deps.sh" --app-only
  npm --prefix "$root/app" run --silent artifact
  mkdir -p "$(dirname "$out")"
  cmp -s "$root/app/dist/pve-ha-app.tgz" "$out" || cp -f "$root/app/dist/pve-ha-app.tgz" "$out"
}
step app build_app

if ((${#failed[@]} > 0)); then
  echo "artifacts not built: ${failed[*]}" >&2
  exit 1
fi

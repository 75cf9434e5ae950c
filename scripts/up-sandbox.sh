#!/usr/bin/env bash
# The whole stack on this machine: the example stack deployed into local Debian 12 LXC containers
# (the sandbox, bridge pvehab0, no route out). Installs what it needs (Debian packages, npm
# dependencies, Node 24), builds the artifacts, then runs `npm run sandbox -- up`, which ends with
# the stack's checks. Needs root on a Debian 12 machine. Idempotent: a second run changes nothing.
set -Eeuo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup/install-system-packages.sh
bash scripts/setup/install-node-deps.sh
export PATH="$root/node_modules/.bin:$PATH"
bash scripts/artifacts/all.sh
npm run --silent sandbox -- up "$@"

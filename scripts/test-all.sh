#!/usr/bin/env bash
# Every test of the project, in order, on a Debian 12 machine as root (what CI runs): installs
# what it needs, then static checks, unit tests (Pulumi mocks, preview mode included), rendered
# configs checked by the real tools, the README's deploy steps followed literally in a fresh
# clone, the app against real PostgreSQL and Kafka, and the LXC sandbox with the drills.
set -Eeuo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DEBIAN_FRONTEND=noninteractive

started=$(date +%s)
step() { printf '\n=== [%4ss] %s\n' "$(($(date +%s) - started))" "$*"; }

step "system packages"
bash scripts/setup/install-system-packages.sh

step "node dependencies"
bash scripts/setup/install-node-deps.sh
export PATH="$root/node_modules/.bin:$PATH"
node --version

step "static checks: typecheck, eslint, prettier"
npm run build
npm run lint

step "unit tests (Pulumi mocks, renderers)"
npm test

step "rendered configs checked by the real tools"
npm run test:tools

step "artifacts (Maven Central, go install, npm)"
bash scripts/artifacts/all.sh

step "the README's deploy steps, followed literally in a fresh clone, then a preview under mocks"
npx ts-node scripts/ci/follow-readme-deploy.ts

step "every metric the dashboards and alerts use, exported by the real exporters"
bash scripts/ci/check-observability.sh --live

step "app: static checks, unit and integration tests (real PostgreSQL 15, real KRaft Kafka)"
npm --prefix app run lint
npm --prefix app test
npm --prefix app run test:integration

step "sandbox: deploy into LXC (scripts/up-sandbox.sh), check, drill, destroy"
npm run test:e2e

step "done in $(($(date +%s) - started)) s"

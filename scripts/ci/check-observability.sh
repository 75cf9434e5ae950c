#!/usr/bin/env bash
# Checks the observability files of the example stack with the real tools:
#   promtool check config / check rules / test rules (for one LB and for an LB pair), amtool
#   check-config, every Grafana dashboard query parsed by promtool plus the offline dashboard
#   checks, shellcheck on the rendered obs-* payloads. With --live it then runs
#   scripts/ci/check-exporter-metrics.sh: the real exporters, Prometheus and Alertmanager on
#   loopback with the rendered settings (needs the artifacts).
# Needs: promtool (apt: prometheus), amtool (apt: prometheus-alertmanager), shellcheck.
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"

live=false
case "${1:-}" in
  "") ;;
  --live) live=true ;;
  *)
    echo "usage: check-observability.sh [--live] (got \"$1\")" >&2
    exit 2
    ;;
esac

fail() {
  echo "check-observability: $*" >&2
  exit 1
}

for tool in promtool amtool shellcheck; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing (apt-get install prometheus prometheus-alertmanager shellcheck)"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$work/rendered"
ts-node scripts/ci/render-observability.ts "$out"

echo "--- prometheus.yml (with the rendered rules)"
promtool check config "$out/prometheus/prometheus.check.yml"

echo "--- alert rules and their unit tests (the example stack's layout, then the other one)"
promtool check rules "$out/prometheus/rules/pve-ha.rules.yml" \
  "$out/prometheus/other-layout/rules/pve-ha.rules.yml"
(cd "$out/prometheus" && promtool test rules rules.test.yml other-layout/rules.test.yml)

echo "--- alertmanager.yml"
amtool check-config "$out/alertmanager/alertmanager.yml"

echo "--- Grafana dashboards: every query parsed by promtool, offline checks"
promtool check rules "$out/grafana/dashboard-expressions.rules.yml"
validation="$(cat "$out/grafana/validation.txt")"
[[ "$validation" == "ok" ]] || fail "dashboard problems:"$'\n'"$validation"
for dashboard in "$out"/grafana/dashboards/*.json; do
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$dashboard"
done
echo "dashboards: $(find "$out/grafana/dashboards" -name '*.json' | wc -l) valid"

echo "--- shellcheck on the rendered obs-* payloads"
shellcheck "$out"/payloads/*.sh
echo "payloads: $(find "$out/payloads" -name '*.sh' | wc -l) clean"

if [[ "$live" == true ]]; then
  bash scripts/ci/check-exporter-metrics.sh "$out"
fi
echo "check-observability: ok"

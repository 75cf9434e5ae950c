#!/usr/bin/env bash
# Fetches the Prometheus JMX Java agent from Maven Central into .cache/artifacts/ (idempotent).
set -Eeuo pipefail

readonly VERSION="${JMX_AGENT_VERSION:-1.0.1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly OUT_DIR="${ARTIFACTS_DIR:-$root/.cache/artifacts}"
readonly JAR="jmx_prometheus_javaagent-$VERSION.jar"

if [[ -s "$OUT_DIR/$JAR" ]]; then
  echo "$OUT_DIR/$JAR"
  exit 0
fi
mkdir -p "$OUT_DIR"
mvn -q -B dependency:copy \
  -Dartifact="io.prometheus.jmx:jmx_prometheus_javaagent:$VERSION:jar" \
  -DoutputDirectory="$OUT_DIR" >&2
[[ -s "$OUT_DIR/$JAR" ]] || { echo "maven did not produce $JAR" >&2; exit 1; }
echo "$OUT_DIR/$JAR"

#!/usr/bin/env bash
# Builds kafka_exporter with `go install` into .cache/artifacts/kafka_exporter (idempotent).
set -Eeuo pipefail

readonly VERSION="${KAFKA_EXPORTER_VERSION:-v1.9.0}"
readonly MODULE="github.com/danielqsj/kafka_exporter"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly OUT_DIR="${ARTIFACTS_DIR:-$root/.cache/artifacts}"
readonly STAMP="$OUT_DIR/kafka_exporter.version"

if [[ -x "$OUT_DIR/kafka_exporter" && "$(cat "$STAMP" 2>/dev/null)" == "$VERSION" ]]; then
  echo "$OUT_DIR/kafka_exporter"
  exit 0
fi
command -v go >/dev/null || { echo "go is not installed (needs Go >= 1.24)" >&2; exit 1; }
mkdir -p "$OUT_DIR"
CGO_ENABLED=0 GOBIN="$OUT_DIR" go install "$MODULE@$VERSION" >&2
echo "$VERSION" >"$STAMP"
echo "$OUT_DIR/kafka_exporter"

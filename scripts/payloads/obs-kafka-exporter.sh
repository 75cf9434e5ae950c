#!/usr/bin/env bash
# kafka_exporter on the monitor node (:9308). The binary was pushed to $ARTIFACT_PATH, either the
# raw binary or a release tgz containing */kafka_exporter.
# Vars: ARTIFACT_PATH, SERVICE_USER, UNIT_FILE (content of kafka-exporter.service).
set -Eeuo pipefail

wait_network
readonly BIN=/usr/local/bin/kafka_exporter
unit=kafka-exporter.service

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if tar -tzf "$ARTIFACT_PATH" >/dev/null 2>&1; then
  tar -xzf "$ARTIFACT_PATH" -C "$work" --wildcards --no-anchored 'kafka_exporter'
  candidate=$(find "$work" -type f -name kafka_exporter | head -n 1)
  [[ -n "$candidate" ]] || die "no kafka_exporter binary in $ARTIFACT_PATH"
else
  candidate="$ARTIFACT_PATH"
fi
write_file "$BIN" 0755 root:root "$unit" <"$candidate" >/dev/null

if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVICE_USER"
fi
printf '%s\n' "$UNIT_FILE" | write_file "/etc/systemd/system/$unit" 0644 root:root "$unit"
ensure_service "$unit"
wait_tcp 127.0.0.1 9308 60
log "kafka_exporter up on :9308"

#!/usr/bin/env bash
# Creates the app topic (--if-not-exists) once every voter and broker is up, sets its
# min.insync.replicas (also on a topic that already existed), then shows it.
set -Eeuo pipefail

IFS=',' read -r -a brokers <<<"$BOOTSTRAP_SERVERS"
for broker in "${brokers[@]}"; do
  wait_tcp "${broker%:*}" "${broker##*:}" 180
done
ok=false
for _ in $(seq 1 30); do
  # TOPIC_COMMAND is a rendered, shell-quoted argument list (kafkaTopicCreateCommand).
  if bash -c "$TOPIC_COMMAND" >&2; then
    ok=true
    break
  fi
  sleep 5
done
[[ "$ok" == true ]] || die "could not create topic $TOPIC"
kafka-configs --bootstrap-server "$BOOTSTRAP_SERVERS" --entity-type topics --entity-name "$TOPIC" \
  --alter --add-config "min.insync.replicas=$MIN_INSYNC_REPLICAS" >&2
kafka-topics --bootstrap-server "$BOOTSTRAP_SERVERS" --describe --topic "$TOPIC"

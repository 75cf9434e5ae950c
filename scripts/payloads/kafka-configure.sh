#!/usr/bin/env bash
# One KRaft node: the kafka user and data dir, server.properties, log4j2, the JMX agent rules,
# the systemd unit and the CLI wrappers; formats the storage once and starts kafka.service.
set -Eeuo pipefail

readonly UNIT=kafka.service
[[ -d /opt/kafka/libs ]] || die "/opt/kafka/libs missing: the kafka artifact is not unpacked"
id -u kafka >/dev/null 2>&1 || useradd --system --home-dir /var/lib/kafka --shell /usr/sbin/nologin kafka
install -d -o kafka -g kafka -m 0750 "$DATA_DIR"

printf '%s' "$SERVER_PROPERTIES" | write_file /etc/kafka/server.properties 0644 root:kafka "$UNIT" >/dev/null
printf '%s' "$LOG4J2" | write_file /etc/kafka/log4j2.properties 0644 root:kafka "$UNIT" >/dev/null
printf '%s' "$JMX_RULES" | write_file "$JMX_RULES_PATH" 0644 root:kafka "$UNIT" >/dev/null
printf '%s' "$KAFKA_UNIT" | write_file /etc/systemd/system/kafka.service 0644 root:root "$UNIT" >/dev/null
printf '%s' "$WRAPPER_TOPICS" | write_file /usr/local/bin/kafka-topics 0755 root:root >/dev/null
printf '%s' "$WRAPPER_QUORUM" | write_file /usr/local/bin/kafka-metadata-quorum 0755 root:root >/dev/null
printf '%s' "$WRAPPER_GROUPS" | write_file /usr/local/bin/kafka-consumer-groups 0755 root:root >/dev/null
printf '%s' "$WRAPPER_CONFIGS" | write_file /usr/local/bin/kafka-configs 0755 root:root >/dev/null

if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
  # FORMAT_COMMAND is a rendered, shell-quoted argument list (kafkaStorageFormatCommand).
  runuser -u kafka -- bash -c "$FORMAT_COMMAND" >&2
fi
ensure_service "$UNIT"
if [[ "$IS_BROKER" == true ]]; then
  wait_tcp "$LISTEN_HOST" "$BROKER_PORT" 180
else
  wait_tcp "$LISTEN_HOST" "$CONTROLLER_PORT" 180
fi
echo "kafka node $NODE_ID up"

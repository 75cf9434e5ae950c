#!/usr/bin/env bash
# One KRaft node: the kafka user and data dir, server.properties, log4j2, the JMX agent rules,
# the systemd unit and the CLI wrappers; formats the storage once and starts kafka.service. After
# a restart of a running node (a changed setting or Kafka version) it waits, bounded by
# IN_SYNC_TIMEOUT_SECONDS, until the node is in sync again (a broker: no partition
# under-replicated; a controller: it answers for the quorum): the next Kafka node's update waits
# for this one (a rolling update).
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
# A restart of a running node, not its first start (on the first start the quorum may not exist
# yet: the other nodes start after this one).
restarting=false
[[ -f "$PVE_HA_RESTART_DIR/$UNIT" ]] && systemctl is-active --quiet "$UNIT" && restarting=true
ensure_service "$UNIT"
if [[ "$restarting" == true ]]; then
  deadline=$((SECONDS + IN_SYNC_TIMEOUT_SECONDS))
  until
    if [[ "$IS_BROKER" == true ]]; then
      out=$(timeout 30 kafka-topics --bootstrap-server "$LISTEN_HOST:$BROKER_PORT" --describe \
        --under-replicated-partitions 2>&1) && [[ -z "$out" ]]
    else
      out=$(timeout 30 kafka-metadata-quorum --bootstrap-controller \
        "$LISTEN_HOST:$CONTROLLER_PORT" describe --status 2>&1)
    fi
  do
    ((SECONDS < deadline)) \
      || die "kafka node $NODE_ID not in sync ${IN_SYNC_TIMEOUT_SECONDS}s after its restart: ${out:-no answer}"
    sleep 2
  done
  log "kafka node $NODE_ID in sync again after its restart"
fi
# A voter listens for the quorum before there is one (the next nodes start after this one); a
# broker-only node comes after the voters in the plan, when the quorum exists.
if [[ "$IS_CONTROLLER" == true ]]; then
  wait_tcp "$LISTEN_HOST" "$CONTROLLER_PORT" 180
else
  wait_tcp "$LISTEN_HOST" "$BROKER_PORT" 180
fi
echo "kafka node $NODE_ID up"

import type { ScrapeJobName } from "./targets";
import { VRRP_FAULT_METRIC, VRRP_MASTER_METRIC } from "./vrrpTextfile";

/**
 * Metric names each scrape job's exporter exposes, limited to the ones dashboards and alerts may
 * use. node, postgres (with our extra queries), nginx, haproxy and kafka-jmx (with our rule set)
 * were read from the running Debian 12 exporters / HAProxy 2.6 / Kafka 4 with JMX agent 1.0.1;
 * app names come from the app's own registry (app/src/metrics.ts); kafka_exporter's are those of
 * its documentation; node's pve_ha_vrrp_* come from the LB pair's keepalived textfile
 * (vrrpTextfile.ts). A dashboard or alert that uses any other name fails the tests.
 */
export const EXPORTER_METRICS: Record<ScrapeJobName, readonly string[]> = {
  node: [
    "node_cpu_seconds_total",
    "node_load1",
    "node_load5",
    "node_load15",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_disk_io_time_seconds_total",
    "node_pressure_cpu_waiting_seconds_total",
    "node_pressure_io_waiting_seconds_total",
    "node_procs_running",
    "node_boot_time_seconds",
    "node_time_seconds",
    VRRP_MASTER_METRIC,
    VRRP_FAULT_METRIC,
  ],
  postgres: [
    "pg_up",
    "pg_replica_is_replica",
    "pg_replica_lag_seconds",
    "pg_replica_wal_receiver_streaming",
    "pg_stat_replication_pg_wal_lsn_diff",
    "pg_replication_slots_active",
    "pg_replication_slots_pg_wal_lsn_diff",
    "pg_stat_activity_count",
    "pg_settings_max_connections",
    "pg_stat_database_xact_commit",
    "pg_stat_database_xact_rollback",
    "pg_stat_database_tup_inserted",
    "pg_stat_database_tup_fetched",
    "pg_stat_database_blks_hit",
    "pg_stat_database_blks_read",
    "pg_database_size_bytes",
    "pg_locks_count",
  ],
  nginx: [
    "nginx_up",
    "nginx_connections_accepted",
    "nginx_connections_active",
    "nginx_connections_handled",
    "nginx_connections_reading",
    "nginx_connections_waiting",
    "nginx_connections_writing",
    "nginx_http_requests_total",
  ],
  haproxy: [
    "haproxy_backend_status",
    "haproxy_backend_active_servers",
    "haproxy_backend_backup_servers",
    "haproxy_backend_current_sessions",
    "haproxy_backend_sessions_total",
    "haproxy_backend_connection_errors_total",
    "haproxy_server_status",
    "haproxy_server_current_sessions",
    "haproxy_server_check_failures_total",
    "haproxy_frontend_current_sessions",
  ],
  "kafka-jmx": [
    "kafka_server_replicamanager_underreplicatedpartitions",
    "kafka_server_replicamanager_underminisrpartitioncount",
    "kafka_server_replicamanager_partitioncount",
    "kafka_server_replicamanager_leadercount",
    "kafka_server_replicamanager_offlinereplicacount",
    "kafka_server_replicamanager_isrshrinks_total",
    "kafka_server_replicamanager_isrexpands_total",
    "kafka_controller_kafkacontroller_activecontrollercount",
    "kafka_controller_kafkacontroller_offlinepartitionscount",
    "kafka_controller_kafkacontroller_activebrokercount",
    "kafka_controller_kafkacontroller_fencedbrokercount",
    "kafka_controller_kafkacontroller_globalpartitioncount",
    "kafka_server_brokertopicmetrics_messagesin_total",
    "kafka_server_brokertopicmetrics_bytesin_total",
    "kafka_server_brokertopicmetrics_bytesout_total",
    "kafka_server_raft_metrics_current_leader",
    "kafka_server_raft_metrics_current_epoch",
    "kafka_server_raft_metrics_high_watermark",
    "kafka_server_raft_metrics_commit_latency_avg",
    "kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent",
    "kafka_network_requestmetrics_totaltimems",
    "kafka_jvm_heap_used_bytes",
    "kafka_jvm_heap_max_bytes",
    "jmx_scrape_duration_seconds",
    "jmx_scrape_error",
  ],
  kafka: [
    "kafka_brokers",
    "kafka_topic_partitions",
    "kafka_topic_partition_current_offset",
    "kafka_topic_partition_in_sync_replica",
    "kafka_topic_partition_under_replicated_partition",
    "kafka_consumergroup_lag",
    "kafka_consumergroup_current_offset",
    "kafka_consumergroup_members",
  ],
  app: [
    "app_http_requests_total",
    "app_http_request_duration_seconds_bucket",
    "app_http_request_duration_seconds_count",
    "app_messages_produced_total",
    "app_produce_failures_total",
    "app_messages_consumed_total",
    "app_messages_stored_total",
    "app_duplicates_skipped_total",
    "app_consumer_lag",
    "app_consumer_restarts_total",
    "app_db_pool_connections",
    "process_cpu_seconds_total",
    "nodejs_eventloop_lag_seconds",
  ],
  prometheus: [
    "prometheus_tsdb_head_series",
    "prometheus_rule_evaluation_failures_total",
    "prometheus_notifications_dropped_total",
  ],
  alertmanager: ["alertmanager_alerts", "alertmanager_notifications_failed_total"],
  grafana: [],
};

/** Series Prometheus adds itself: per scrape target, and ALERTS from alerting rules. */
export const PROMETHEUS_SYNTHETIC_METRICS: readonly string[] = [
  "ALERTS",
  "up",
  "scrape_duration_seconds",
  "scrape_samples_scraped",
  "scrape_series_added",
];

export function knownMetricNames(): Set<string> {
  return new Set([...PROMETHEUS_SYNTHETIC_METRICS, ...Object.values(EXPORTER_METRICS).flat()]);
}

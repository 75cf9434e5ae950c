import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { type ObservedLayout, SINGLE_LB_LAYOUT } from "../nodes";
import { stateTimeline, statValue, timeSeries } from "./panels";

const RATE = "$__rate_interval";

/** CPU busy % per node (what the paper's node dashboard shows as "CPU busy"). */
const CPU_BUSY = `100 * (1 - avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[${RATE}])))`;
/** 1-minute load as % of the node's CPUs (the paper's "system load"). */
const SYSTEM_LOAD =
  "100 * node_load1 / on(node) group_left " +
  'count by (node) (node_cpu_seconds_total{mode="idle"})';

function base(uid: string, title: string, tags: string[]): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .tags(["pve-ha", ...tags])
    .refresh("30s")
    .time({ from: "now-1h", to: "now" })
    .timezone("browser")
    .readonly();
}

/** Per LB node: 0 BACKUP, 1 MASTER, 2 FAULT (vrrpTextfile.ts); 3, both, would be a bug. */
const LB_VRRP_STATE = "pve_ha_vrrp_master + 2 * pve_ha_vrrp_fault";

function lbVrrpPanel() {
  return stateTimeline(
    "Virtual IP holder and VRRP FAULT per LB node",
    [{ expr: LB_VRRP_STATE, legend: "{{node}} ({{vrrp_instance}})" }],
    {
      0: { text: "BACKUP", color: "blue" },
      1: { text: "MASTER: holds the VIP", color: "green" },
      2: { text: "FAULT", color: "red" },
      3: { text: "MASTER + FAULT", color: "purple" },
    },
    { width: 24, height: 5 },
  );
}

/** The paper's figures in one place, and the LB pair's virtual IP when the stack has one. */
export function overviewDashboard(layout: ObservedLayout = SINGLE_LB_LAYOUT): dashboard.Dashboard {
  const overview = base("pve-ha-overview", "pve-ha: overview", ["overview"])
    .withRow(new dashboard.RowBuilder("Health"))
    .withPanel(statValue("Targets up", "none", [{ expr: "sum(up)", legend: "up" }]))
    .withPanel(
      statValue("Targets down", "none", [{ expr: "count(up == 0) or vector(0)", legend: "down" }]),
    )
    .withPanel(
      statValue("Firing alerts", "none", [
        { expr: 'count(ALERTS{alertstate="firing"}) or vector(0)', legend: "firing" },
      ]),
    )
    .withPanel(
      statValue("Max consumer lag", "none", [
        {
          expr: "max(sum by (consumergroup, topic) (kafka_consumergroup_lag)) or vector(0)",
          legend: "lag",
        },
      ]),
    )
    .withRow(new dashboard.RowBuilder("Load balancer"));
  if (layout.lbPair) overview.withPanel(lbVrrpPanel());
  return overview
    .withPanel(
      timeSeries("Request split per node", "reqps", [
        {
          expr: `sum by (node) (rate(app_http_requests_total{job="app"}[${RATE}]))`,
          legend: "{{node}}",
        },
        { expr: `sum(rate(nginx_http_requests_total[${RATE}]))`, legend: "nginx total" },
      ]),
    )
    .withPanel(
      timeSeries("Request share per node", "percentunit", [
        {
          expr:
            `sum by (node) (rate(app_http_requests_total{job="app"}[${RATE}])) / ignoring(node) ` +
            `group_left sum(rate(app_http_requests_total{job="app"}[${RATE}]))`,
          legend: "{{node}}",
        },
      ]),
    )
    .withPanel(
      timeSeries("Request latency p99", "s", [
        {
          expr:
            "histogram_quantile(0.99, sum by (node, le) " +
            `(rate(app_http_request_duration_seconds_bucket{job="app"}[${RATE}])))`,
          legend: "{{node}}",
        },
      ]),
    )
    .withPanel(
      timeSeries("Messages produced / stored / duplicates skipped", "short", [
        {
          expr: `sum by (node) (rate(app_messages_produced_total[${RATE}]))`,
          legend: "{{node}} produced",
        },
        {
          expr: `sum by (node) (rate(app_messages_stored_total[${RATE}]))`,
          legend: "{{node}} stored",
        },
        {
          expr: `sum by (node) (rate(app_duplicates_skipped_total[${RATE}]))`,
          legend: "{{node}} duplicates",
        },
      ]),
    )
    .withRow(new dashboard.RowBuilder("Nodes"))
    .withPanel(timeSeries("CPU busy", "percent", [{ expr: CPU_BUSY, legend: "{{node}}" }]))
    .withPanel(
      timeSeries("System load (% of CPUs)", "percent", [{ expr: SYSTEM_LOAD, legend: "{{node}}" }]),
    )
    .withRow(new dashboard.RowBuilder("Data"))
    .withPanel(
      timeSeries("PostgreSQL replication lag", "s", [
        { expr: "pg_replica_lag_seconds", legend: "{{node}} replay lag" },
      ]),
    )
    .withPanel(
      timeSeries("Kafka consumer lag", "none", [
        {
          expr: "sum by (consumergroup, topic) (kafka_consumergroup_lag)",
          legend: "{{consumergroup}} / {{topic}} (kafka_exporter)",
        },
        { expr: "sum by (node) (app_consumer_lag)", legend: "{{node}} (app)" },
      ]),
    )
    .withRow(new dashboard.RowBuilder("Monitoring overhead"))
    .withPanel(
      timeSeries("Scrape duration", "s", [
        { expr: "scrape_duration_seconds", legend: "{{job}} {{node}}" },
      ]),
    )
    .withPanel(
      timeSeries("Scrape duration p99 per job (1h)", "s", [
        {
          expr: "max by (job) (quantile_over_time(0.99, scrape_duration_seconds[1h]))",
          legend: "{{job}}",
        },
      ]),
    )
    .build();
}

/** Per PostgreSQL node, as Patroni reports it: 0 neither (starting, stopped), 1 primary, 2 replica. */
const PATRONI_ROLE = "patroni_primary + 2 * patroni_replica";

/** pgFailover auto: who leads, whether the lock is free, failovers (timeline), WAL behind. */
function withPatroniRow(d: dashboard.DashboardBuilder): dashboard.DashboardBuilder {
  return d
    .withRow(new dashboard.RowBuilder("Patroni"))
    .withPanel(
      stateTimeline(
        "Patroni role per node",
        [{ expr: PATRONI_ROLE, legend: "{{node}}" }],
        {
          0: { text: "neither (starting or stopped)", color: "red" },
          1: { text: "primary: holds the leader lock", color: "green" },
          2: { text: "replica", color: "blue" },
        },
        { width: 24, height: 5 },
      ),
    )
    .withPanel(
      statValue("Leader lock free", "none", [
        { expr: "max(patroni_cluster_unlocked)", legend: "no leader" },
      ]),
    )
    .withPanel(
      statValue("Synchronous standby", "none", [
        { expr: "patroni_sync_standby", legend: "{{node}}" },
      ]),
    )
    .withPanel(
      statValue("Pending restart", "none", [
        { expr: "patroni_pending_restart", legend: "{{node}}" },
      ]),
    )
    .withPanel(
      statValue("Since the last etcd contact", "s", [
        { expr: "time() - patroni_dcs_last_seen", legend: "{{node}}" },
      ]),
    )
    .withPanel(
      timeSeries("Timeline (a step up is a failover or switchover)", "none", [
        { expr: "patroni_postgres_timeline", legend: "{{node}}" },
      ]),
    )
    .withPanel(
      timeSeries("Replica WAL behind the primary", "bytes", [
        {
          expr: "scalar(max(patroni_xlog_location)) - patroni_xlog_received_location",
          legend: "{{node}} received",
        },
        {
          expr: "scalar(max(patroni_xlog_location)) - patroni_xlog_replayed_location",
          legend: "{{node}} replayed",
        },
      ]),
    );
}

export function postgresDashboard(layout: ObservedLayout = SINGLE_LB_LAYOUT): dashboard.Dashboard {
  const d = base("pve-ha-postgres", "pve-ha: PostgreSQL", ["postgres"]);
  return (layout.patroni ? withPatroniRow(d) : d)
    .withRow(new dashboard.RowBuilder("Replication"))
    .withPanel(statValue("PostgreSQL up", "none", [{ expr: "pg_up", legend: "{{node}}" }]))
    .withPanel(
      statValue("Is standby", "none", [{ expr: "pg_replica_is_replica", legend: "{{node}}" }]),
    )
    .withPanel(
      statValue("Standby streaming", "none", [
        { expr: "pg_replica_wal_receiver_streaming", legend: "{{node}}" },
      ]),
    )
    .withPanel(
      statValue("Active replication slots", "none", [
        { expr: "sum(pg_replication_slots_active)", legend: "active" },
      ]),
    )
    .withPanel(
      timeSeries("Replay lag", "s", [{ expr: "pg_replica_lag_seconds", legend: "{{node}}" }]),
    )
    .withPanel(
      timeSeries("WAL not yet replayed (primary view)", "bytes", [
        { expr: "pg_stat_replication_pg_wal_lsn_diff", legend: "{{node}} -> {{client_addr}}" },
        { expr: "pg_replication_slots_pg_wal_lsn_diff", legend: "slot {{slot_name}}" },
      ]),
    )
    .withRow(new dashboard.RowBuilder("Load"))
    .withPanel(
      timeSeries("Transactions", "ops", [
        {
          expr: `sum by (node) (rate(pg_stat_database_xact_commit[${RATE}]))`,
          legend: "{{node}} commit",
        },
        {
          expr: `sum by (node) (rate(pg_stat_database_xact_rollback[${RATE}]))`,
          legend: "{{node}} rollback",
        },
      ]),
    )
    .withPanel(
      timeSeries("Connections", "none", [
        { expr: "sum by (node, state) (pg_stat_activity_count)", legend: "{{node}} {{state}}" },
        { expr: "max by (node) (pg_settings_max_connections)", legend: "{{node}} max" },
      ]),
    )
    .withPanel(
      timeSeries("Rows inserted", "rowsps", [
        {
          expr: `sum by (node) (rate(pg_stat_database_tup_inserted[${RATE}]))`,
          legend: "{{node}}",
        },
      ]),
    )
    .withPanel(
      timeSeries("Database size", "bytes", [
        { expr: 'pg_database_size_bytes{datname!~"template.*"}', legend: "{{node}} {{datname}}" },
      ]),
    )
    .withRow(new dashboard.RowBuilder("HAProxy"))
    .withPanel(
      timeSeries("Backend servers up", "none", [
        { expr: "haproxy_backend_active_servers", legend: "{{proxy}} active" },
        { expr: "haproxy_backend_backup_servers", legend: "{{proxy}} backup" },
      ]),
    )
    .withPanel(
      timeSeries("Sessions per server", "none", [
        { expr: "haproxy_server_current_sessions", legend: "{{proxy}}/{{server}}" },
      ]),
    )
    .build();
}

export function kafkaDashboard(): dashboard.Dashboard {
  return base("pve-ha-kafka", "pve-ha: Kafka", ["kafka"])
    .withRow(new dashboard.RowBuilder("Cluster"))
    .withPanel(
      statValue("Active controllers", "none", [
        { expr: "sum(kafka_controller_kafkacontroller_activecontrollercount)", legend: "active" },
      ]),
    )
    .withPanel(statValue("Brokers", "none", [{ expr: "kafka_brokers", legend: "brokers" }]))
    .withPanel(
      statValue("Offline partitions", "none", [
        { expr: "max(kafka_controller_kafkacontroller_offlinepartitionscount)", legend: "offline" },
      ]),
    )
    .withPanel(
      statValue("Under-replicated partitions", "none", [
        { expr: "sum(kafka_server_replicamanager_underreplicatedpartitions)", legend: "urp" },
      ]),
    )
    .withPanel(
      timeSeries("KRaft leader and epoch", "none", [
        { expr: "kafka_server_raft_metrics_current_leader", legend: "{{node}} sees leader" },
        { expr: "kafka_server_raft_metrics_current_epoch", legend: "{{node}} epoch" },
      ]),
    )
    .withPanel(
      timeSeries("Partitions and leaders per broker", "none", [
        { expr: "kafka_server_replicamanager_partitioncount", legend: "{{node}} partitions" },
        { expr: "kafka_server_replicamanager_leadercount", legend: "{{node}} leaders" },
      ]),
    )
    .withRow(new dashboard.RowBuilder("Traffic"))
    .withPanel(
      timeSeries("Messages in", "short", [
        {
          expr: `rate(kafka_server_brokertopicmetrics_messagesin_total[${RATE}])`,
          legend: "{{node}}",
        },
      ]),
    )
    .withPanel(
      timeSeries("Bytes in / out", "Bps", [
        {
          expr: `rate(kafka_server_brokertopicmetrics_bytesin_total[${RATE}])`,
          legend: "{{node}} in",
        },
        {
          expr: `rate(kafka_server_brokertopicmetrics_bytesout_total[${RATE}])`,
          legend: "{{node}} out",
        },
      ]),
    )
    .withPanel(
      timeSeries("Request time p99", "ms", [
        {
          expr: 'kafka_network_requestmetrics_totaltimems{quantile="0.99"}',
          legend: "{{node}} {{request}}",
        },
      ]),
    )
    .withPanel(
      timeSeries("ISR shrinks / expands", "short", [
        {
          expr: `rate(kafka_server_replicamanager_isrshrinks_total[${RATE}])`,
          legend: "{{node}} shrink",
        },
        {
          expr: `rate(kafka_server_replicamanager_isrexpands_total[${RATE}])`,
          legend: "{{node}} expand",
        },
      ]),
    )
    .withRow(new dashboard.RowBuilder("Consumers"))
    .withPanel(
      timeSeries("Consumer lag", "none", [
        {
          expr: "sum by (consumergroup, topic) (kafka_consumergroup_lag)",
          legend: "{{consumergroup}} / {{topic}}",
        },
      ]),
    )
    .withPanel(
      timeSeries("Consumer group members", "none", [
        { expr: "kafka_consumergroup_members", legend: "{{consumergroup}}" },
      ]),
    )
    .withRow(new dashboard.RowBuilder("JVM and agent"))
    .withPanel(
      timeSeries("Heap used", "bytes", [
        { expr: "kafka_jvm_heap_used_bytes", legend: "{{node}} used" },
        { expr: "kafka_jvm_heap_max_bytes", legend: "{{node}} max" },
      ]),
    )
    .withPanel(
      timeSeries("JMX scrape duration", "s", [
        { expr: "jmx_scrape_duration_seconds", legend: "{{node}} agent" },
        { expr: 'scrape_duration_seconds{job="kafka-jmx"}', legend: "{{node}} total" },
      ]),
    )
    .build();
}

export function nodesDashboard(): dashboard.Dashboard {
  return base("pve-ha-nodes", "pve-ha: nodes", ["nodes"])
    .withPanel(timeSeries("CPU busy", "percent", [{ expr: CPU_BUSY, legend: "{{node}}" }]))
    .withPanel(
      timeSeries("System load (% of CPUs)", "percent", [{ expr: SYSTEM_LOAD, legend: "{{node}}" }]),
    )
    .withPanel(
      timeSeries("Memory used", "percent", [
        {
          expr: "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)",
          legend: "{{node}}",
        },
      ]),
    )
    .withPanel(
      timeSeries("Root filesystem free", "percent", [
        {
          expr:
            '100 * node_filesystem_avail_bytes{mountpoint="/"} / ' +
            'node_filesystem_size_bytes{mountpoint="/"}',
          legend: "{{node}}",
        },
      ]),
    )
    .withPanel(
      timeSeries("Network", "Bps", [
        {
          expr: `sum by (node) (rate(node_network_receive_bytes_total{device!="lo"}[${RATE}]))`,
          legend: "{{node}} rx",
        },
        {
          expr: `sum by (node) (rate(node_network_transmit_bytes_total{device!="lo"}[${RATE}]))`,
          legend: "{{node}} tx",
        },
      ]),
    )
    .withPanel(
      timeSeries("Processes running", "none", [{ expr: "node_procs_running", legend: "{{node}}" }]),
    )
    .build();
}

/** Every provisioned dashboard for the stack's layout, keyed by its file name. */
export function allDashboards(
  layout: ObservedLayout = SINGLE_LB_LAYOUT,
): Record<string, dashboard.Dashboard> {
  return {
    "pve-ha-overview.json": overviewDashboard(layout),
    "pve-ha-postgres.json": postgresDashboard(layout),
    "pve-ha-kafka.json": kafkaDashboard(),
    "pve-ha-nodes.json": nodesDashboard(),
  };
}

/** The JSON file content Grafana's file provider loads. */
export function renderDashboardJson(d: dashboard.Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

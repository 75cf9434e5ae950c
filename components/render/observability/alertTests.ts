import { stringify } from "yaml";
import type { AlertRule, AlertThresholds } from "./alerts";

/**
 * promtool rule unit tests: for every alert a series set that is healthy for the first 5 minutes
 * and broken afterwards. Each case asserts silence while healthy and the exact alert (labels and
 * expanded annotations) once the condition has held for the rule's `for` duration; a case that
 * expects no alert shows a change that must not page.
 */

interface Series {
  series: string;
  values: string;
}

interface AlertCase {
  alert: string;
  series: Series[];
  /** Labels of the expected alerts, without alertname/severity; empty: it stays silent. */
  firing: Record<string, string>[];
}

const QUIET_AT = "4m";
const FIRING_AT = "15m";

type Labels = Record<string, string>;

function seriesName(metric: string, labels: Labels): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");
  return `${metric}{${body}}`;
}

/** Five healthy samples (1-minute interval), then broken samples until the end of the test. */
function healthyThen(healthy: number | string, broken: number | string): string {
  return `${healthy}x5 ${broken}x15`;
}

const target = (job: string, node: string, role: string, vmid: number, port: number): Labels => ({
  instance: `10.10.10.${vmid - 100}:${port}`,
  job,
  node,
  role,
  vmid: String(vmid),
});

/** pgFailover auto's alerts: Patroni on pg1 (the leader) and pg2, cluster "pve-ha". */
function patroniCases(pg1Exporter: Labels, pg2Exporter: Labels): AlertCase[] {
  const scope = { scope: "pve-ha" };
  const pg1 = { ...target("patroni", "pg1", "pg-primary", 103, 8008), ...scope };
  const pg2 = { ...target("patroni", "pg2", "pg-standby", 104, 8008), ...scope };
  const s = (metric: string, labels: Labels, values: string): Series => ({
    series: seriesName(metric, labels),
    values,
  });
  return [
    {
      alert: "PatroniNoLeader",
      series: [s("patroni_primary", pg1, healthyThen(1, 0)), s("patroni_primary", pg2, "0x20")],
      firing: [{}],
    },
    {
      // both Patroni down: their series go stale
      alert: "PatroniNoLeader",
      series: [s("patroni_primary", pg1, "1x5 stale"), s("patroni_primary", pg2, "0x5 stale")],
      firing: [{}],
    },
    {
      // a failover: pg2 holds the lock from the next scrape on
      alert: "PatroniNoLeader",
      series: [
        s("patroni_primary", pg1, "1x5 stale"),
        s("patroni_primary", pg2, healthyThen(0, 1)),
      ],
      firing: [],
    },
    {
      alert: "PatroniFailover",
      series: [
        s("patroni_postgres_timeline", pg1, "1x5 stale"),
        s("patroni_postgres_timeline", pg2, healthyThen(1, 2)),
      ],
      firing: [scope],
    },
    {
      // a restart in place: timeline 0 while PostgreSQL is down, then the same timeline
      alert: "PatroniFailover",
      series: [
        s("patroni_postgres_timeline", pg1, "1x5 0 1x14"),
        s("patroni_postgres_timeline", pg2, "1x20"),
      ],
      firing: [],
    },
    {
      alert: "PatroniReplicaNotStreaming",
      series: [
        s("patroni_replica", pg2, "1x20"),
        s("patroni_replica", pg1, "0x20"),
        s("pg_replica_wal_receiver_streaming", pg2Exporter, healthyThen(1, 0)),
        s("pg_replica_wal_receiver_streaming", pg1Exporter, "0x20"),
      ],
      firing: [pg2],
    },
    {
      alert: "PatroniNoReplica",
      series: [s("patroni_primary", pg1, "1x20"), s("patroni_replica", pg2, "1x5 stale")],
      firing: [scope],
    },
    {
      // the replica restarts: Patroni reports it as no replica for one scrape
      alert: "PatroniNoReplica",
      series: [s("patroni_primary", pg1, "1x20"), s("patroni_replica", pg2, "1x5 0 1x14")],
      firing: [],
    },
  ];
}

function cases(t: AlertThresholds): AlertCase[] {
  const lb = target("node", "lb", "nginx", 100, 9100);
  const monitorNode = target("node", "monitor", "monitor", 109, 9100);
  const web1 = target("app", "webserver1", "app", 101, 3000);
  const web2 = target("app", "webserver2", "app", 102, 3000);
  const pg1 = target("postgres", "pg1", "pg-primary", 103, 9187);
  const pg2 = target("postgres", "pg2", "pg-standby", 104, 9187);
  const kafka = (n: number, controller: boolean): Labels => ({
    ...target("kafka-jmx", `kafka${n}`, "kafka", 105 + n, 7071),
    kafka_broker: String(n < 3),
    kafka_controller: String(controller),
  });
  const exporter = target("kafka", "monitor", "monitor", 109, 9308);
  const rootFs = { ...lb, device: "/dev/loop0", fstype: "ext4", mountpoint: "/" };
  const streaming = {
    ...pg1,
    application_name: "pg2",
    client_addr: "10.10.10.4",
    state: "streaming",
  };
  const pgproxy = target("haproxy", "pgproxy", "haproxy", 105, 8404);
  const rwDown = { ...pgproxy, proxy: "pg_read_write", state: "DOWN" };
  const rwUp = { ...pgproxy, proxy: "pg_read_write", state: "UP" };
  const roUp = { ...pgproxy, proxy: "pg_read_only", state: "UP" };
  const lag = { consumergroup: "pve-ha-app", topic: "messages", partition: "0" };
  const vip = { vrrp_instance: "pve_ha_vip" };
  const lbVrrp = { ...lb, ...vip };
  const lb2Vrrp = { ...target("node", "lb2", "nginx", 110, 9100), ...vip };
  const master = (labels: Labels, values: string): Series => ({
    series: seriesName("pve_ha_vrrp_master", labels),
    values,
  });
  return [
    {
      alert: "TargetDown",
      series: [{ series: seriesName("up", lb), values: healthyThen(1, 0) }],
      firing: [lb],
    },
    {
      alert: "LbBackendDown",
      series: [{ series: seriesName("up", web1), values: healthyThen(1, 0) }],
      firing: [web1],
    },
    {
      alert: "PgProxyBackendDown",
      series: [
        { series: seriesName("haproxy_backend_status", rwDown), values: healthyThen(0, 1) },
        { series: seriesName("haproxy_backend_status", rwUp), values: healthyThen(1, 0) },
        { series: seriesName("haproxy_backend_status", { ...roUp }), values: "1x20" },
      ],
      firing: [rwDown],
    },
    {
      alert: "PostgresDown",
      series: [
        { series: seriesName("pg_up", pg1), values: healthyThen(1, 0) },
        { series: seriesName("up", pg1), values: "1x20" },
        { series: seriesName("pg_up", pg2), values: "1x5 stale" },
        { series: seriesName("up", pg2), values: healthyThen(1, 0) },
      ],
      firing: [pg1, pg2],
    },
    {
      alert: "PostgresStandbyNotStreaming",
      series: [
        { series: seriesName("pg_replica_is_replica", pg2), values: "1x20" },
        { series: seriesName("pg_replica_wal_receiver_streaming", pg2), values: healthyThen(1, 0) },
        { series: seriesName("pg_replica_is_replica", pg1), values: "0x20" },
        { series: seriesName("pg_replica_wal_receiver_streaming", pg1), values: "0x20" },
      ],
      firing: [pg2],
    },
    {
      alert: "PostgresPrimaryWithoutStreamingStandby",
      series: [
        { series: seriesName("pg_replica_is_replica", pg1), values: "0x20" },
        {
          series: seriesName("pg_stat_replication_pg_wal_lsn_diff", streaming),
          values: "0x5 stale",
        },
        { series: seriesName("pg_replica_is_replica", pg2), values: "1x20" },
      ],
      firing: [pg1],
    },
    {
      alert: "PostgresReplicationLagHigh",
      series: [
        {
          series: seriesName("pg_replica_lag_seconds", pg2),
          values: healthyThen(0, t.replicationLagSeconds * 2),
        },
        {
          series: seriesName("pg_stat_replication_pg_wal_lsn_diff", streaming),
          values: healthyThen(0, t.replicationLagBytes * 2),
        },
      ],
      firing: [pg2, streaming],
    },
    {
      alert: "KafkaUnderReplicatedPartitions",
      series: [
        {
          series: seriesName(
            "kafka_server_replicamanager_underreplicatedpartitions",
            kafka(1, true),
          ),
          values: healthyThen(0, 1),
        },
        {
          series: seriesName(
            "kafka_server_replicamanager_underreplicatedpartitions",
            kafka(2, true),
          ),
          values: "0x20",
        },
      ],
      firing: [kafka(1, true)],
    },
    {
      alert: "KafkaOfflinePartitions",
      series: [
        {
          series: seriesName(
            "kafka_controller_kafkacontroller_offlinepartitionscount",
            kafka(1, true),
          ),
          values: healthyThen(0, 1),
        },
      ],
      firing: [{}],
    },
    {
      alert: "KafkaControllerQuorumLost",
      series: [
        { series: seriesName("up", kafka(1, true)), values: "1x20" },
        { series: seriesName("up", kafka(2, true)), values: healthyThen(1, 0) },
        { series: seriesName("up", kafka(3, true)), values: healthyThen(1, 0) },
        {
          series: seriesName(
            "kafka_controller_kafkacontroller_activecontrollercount",
            kafka(1, true),
          ),
          values: "1x20",
        },
      ],
      firing: [{}],
    },
    {
      alert: "KafkaControllerQuorumLost",
      series: [
        { series: seriesName("up", kafka(1, true)), values: "1x20" },
        { series: seriesName("up", kafka(2, true)), values: "1x20" },
        { series: seriesName("up", kafka(3, true)), values: "1x20" },
        {
          series: seriesName(
            "kafka_controller_kafkacontroller_activecontrollercount",
            kafka(1, true),
          ),
          values: healthyThen(1, 0),
        },
      ],
      firing: [{}],
    },
    {
      alert: "KafkaConsumerLagHigh",
      series: [
        {
          series: seriesName("kafka_consumergroup_lag", { ...exporter, ...lag }),
          values: healthyThen(0, t.consumerLag * 2),
        },
      ],
      firing: [{ consumergroup: lag.consumergroup, topic: lag.topic }],
    },
    {
      alert: "AppConsumerLagHigh",
      series: [
        {
          series: seriesName("app_consumer_lag", { ...web1, partition: "0" }),
          values: healthyThen(0, t.consumerLag * 2),
        },
        { series: seriesName("app_consumer_lag", { ...web2, partition: "0" }), values: "0x20" },
      ],
      firing: [{ node: "webserver1" }],
    },
    {
      alert: "LbVipNoHolder",
      series: [master(lbVrrp, healthyThen(1, 0)), master(lb2Vrrp, "0x20")],
      firing: [vip],
    },
    {
      // both LB nodes down: their series go stale
      alert: "LbVipNoHolder",
      series: [master(lbVrrp, "1x5 stale"), master(lb2Vrrp, "0x5 stale")],
      firing: [{}],
    },
    {
      // the MASTER's node goes down and the BACKUP takes the virtual IP
      alert: "LbVipNoHolder",
      series: [master(lbVrrp, "1x5 stale"), master(lb2Vrrp, healthyThen(0, 1))],
      firing: [],
    },
    {
      alert: "LbVipTwoHolders",
      series: [master(lbVrrp, "1x20"), master(lb2Vrrp, healthyThen(0, 1))],
      firing: [vip],
    },
    {
      // a handover from one node to the other
      alert: "LbVipTwoHolders",
      series: [master(lbVrrp, healthyThen(1, 0)), master(lb2Vrrp, healthyThen(0, 1))],
      firing: [],
    },
    {
      alert: "LbVrrpFault",
      series: [
        { series: seriesName("pve_ha_vrrp_fault", lbVrrp), values: "0x20" },
        { series: seriesName("pve_ha_vrrp_fault", lb2Vrrp), values: healthyThen(0, 1) },
      ],
      firing: [lb2Vrrp],
    },
    {
      // the full backup stops succeeding: its last success ages past pgBackupMaxAgeHours
      alert: "PgBackupStale",
      series: [
        {
          series: seriesName("pve_ha_pg_backup_last_success_timestamp_seconds", {
            ...monitorNode,
            type: "full",
          }),
          values: "0+60x4 -100000x15",
        },
      ],
      firing: [{}],
    },
    {
      alert: "PgBackupFailed",
      series: [
        {
          series: seriesName("pve_ha_pg_backup_last_run_ok", { ...monitorNode, type: "full" }),
          values: "1x20",
        },
        {
          series: seriesName("pve_ha_pg_backup_last_run_ok", { ...monitorNode, type: "incr" }),
          values: healthyThen(1, 0),
        },
      ],
      firing: [{ ...monitorNode, type: "incr" }],
    },
    {
      alert: "PgWalArchiveFailing",
      series: [
        { series: seriesName("pg_archiver_failed_count", pg1), values: "0x5 1+1x14" },
        { series: seriesName("pg_archiver_last_archived_time", pg1), values: "500x20" },
        { series: seriesName("pg_archiver_last_failed_time", pg1), values: healthyThen(0, 1000) },
        { series: seriesName("pg_archiver_failed_count", pg2), values: "0x20" },
      ],
      firing: [pg1],
    },
    {
      // one failed attempt, then archiving works again: no page
      alert: "PgWalArchiveFailing",
      series: [
        { series: seriesName("pg_archiver_failed_count", pg1), values: "0x5 1x14" },
        { series: seriesName("pg_archiver_last_failed_time", pg1), values: "0x5 1000x14" },
        { series: seriesName("pg_archiver_last_archived_time", pg1), values: "500x5 1100x14" },
      ],
      firing: [],
    },
    ...patroniCases(pg1, pg2),
    {
      alert: "NodeMemoryLow",
      series: [
        { series: seriesName("node_memory_MemTotal_bytes", lb), values: "1000x20" },
        {
          series: seriesName("node_memory_MemAvailable_bytes", lb),
          values: healthyThen(500, Math.floor(1000 * t.memoryAvailableRatio) - 1),
        },
      ],
      firing: [lb],
    },
    {
      alert: "NodeDiskLow",
      series: [
        { series: seriesName("node_filesystem_size_bytes", rootFs), values: "1000x20" },
        {
          series: seriesName("node_filesystem_avail_bytes", rootFs),
          values: healthyThen(500, Math.floor(1000 * t.diskAvailableRatio) - 1),
        },
      ],
      firing: [rootFs],
    },
  ];
}

/** Expands `{{ $labels.x }}` the way Prometheus does (a missing label expands to ""). */
export function expandLabels(template: string, labels: Labels): string {
  return template.replace(
    /\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g,
    (_m, name: string) => (name in labels ? labels[name] : ""),
  );
}

/** The promtool test file for `rules`; every rule must have at least one case. */
export function renderAlertRuleTests(
  rules: AlertRule[],
  thresholds: AlertThresholds,
  ruleFile: string,
): string {
  const all = cases(thresholds);
  const byName = new Map(rules.map((r) => [r.alert, r]));
  for (const rule of rules) {
    if (!all.some((c) => c.alert === rule.alert)) {
      throw new Error(`alert tests: no test case for alert "${rule.alert}"`);
    }
  }
  const tests = all
    .filter((c) => byName.has(c.alert))
    .map((c) => {
      const rule = byName.get(c.alert) as AlertRule;
      const expAlerts = c.firing.map((labels) => ({
        exp_labels: { ...labels, severity: rule.severity },
        exp_annotations: {
          summary: expandLabels(rule.summary, labels),
          description: expandLabels(rule.description, labels),
        },
      }));
      return {
        interval: "1m",
        input_series: c.series,
        alert_rule_test: [
          { eval_time: QUIET_AT, alertname: c.alert, exp_alerts: [] },
          { eval_time: FIRING_AT, alertname: c.alert, exp_alerts: expAlerts },
        ],
      };
    });
  return stringify({ rule_files: [ruleFile], evaluation_interval: "1m", tests }, { lineWidth: 0 });
}

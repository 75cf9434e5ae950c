import { stringify } from "yaml";
import type { ObservedLayout } from "./nodes";

export interface AlertThresholds {
  /** Fire when MemAvailable/MemTotal stays below this ratio. */
  memoryAvailableRatio: number;
  /** Fire when the root filesystem's free ratio stays below this. */
  diskAvailableRatio: number;
  /** Standby replay lag (seconds) while WAL is still waiting to be replayed. */
  replicationLagSeconds: number;
  /** WAL bytes the primary holds that a standby has not replayed yet. */
  replicationLagBytes: number;
  /** Messages a consumer group is behind on a topic. */
  consumerLag: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  memoryAvailableRatio: 0.1,
  diskAvailableRatio: 0.1,
  replicationLagSeconds: 30,
  replicationLagBytes: 64 * 1024 * 1024,
  consumerLag: 100,
};

export type Severity = "critical" | "warning";

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  severity: Severity;
  summary: string;
  description: string;
}

function check(name: keyof AlertThresholds, value: number, max?: number): void {
  if (!Number.isFinite(value) || value <= 0 || (max !== undefined && value >= max)) {
    const range = max === undefined ? "> 0" : `in (0, ${max})`;
    throw new Error(`alerts: ${name} must be a number ${range} (got ${value})`);
  }
}

const CONTROLLER_UP = 'up{job="kafka-jmx",kafka_controller="true"}';

/**
 * The LB pair's keepalived state (vrrpTextfile.ts), per VRRP instance. No holder also covers no
 * series at all (both LB nodes down, or no textfile): a failed scrape makes its series stale.
 * A `for` shorter than the evaluation interval (the scrape interval, 15 s by default) means two
 * evaluations in a row, so a failover seen by one scrape only pages nobody.
 */
const LB_PAIR_RULES: AlertRule[] = [
  {
    alert: "LbVipNoHolder",
    expr: "sum by (vrrp_instance) (pve_ha_vrrp_master) < 1 or absent(pve_ha_vrrp_master)",
    for: "10s",
    severity: "critical",
    summary: "No load balancer holds the virtual IP",
    description:
      "No LB node reports VRRP MASTER, or no LB node reports its VRRP state at all: clients " +
      "cannot reach the stack through the virtual IP.",
  },
  {
    alert: "LbVipTwoHolders",
    expr: "sum by (vrrp_instance) (pve_ha_vrrp_master) > 1",
    for: "5s",
    severity: "critical",
    summary: "More than one load balancer holds the virtual IP",
    description:
      "Several LB nodes report VRRP MASTER for {{ $labels.vrrp_instance }} (split brain): " +
      "each answers ARP for the virtual IP.",
  },
  {
    alert: "LbVrrpFault",
    expr: "pve_ha_vrrp_fault == 1",
    for: "30s",
    severity: "warning",
    summary: "Load balancer {{ $labels.node }} is in VRRP FAULT",
    description:
      "keepalived on {{ $labels.node }} reports FAULT for {{ $labels.vrrp_instance }}: its " +
      "nginx health check fails, so it gives up or cannot take the virtual IP.",
  },
];

/**
 * pgBackRest (backups.ts textfile on the repository node; pg_stat_archiver via postgres_exporter
 * on the primary). Stale covers "never succeeded" too: no series at all.
 */
function backupRules(maxAgeHours: number): AlertRule[] {
  const maxAgeS = maxAgeHours * 3600;
  return [
    {
      alert: "PgBackupStale",
      expr:
        `time() - max(pve_ha_pg_backup_last_success_timestamp_seconds) > ${maxAgeS} ` +
        "or absent(pve_ha_pg_backup_last_success_timestamp_seconds)",
      for: "10m",
      severity: "critical",
      summary: "No successful PostgreSQL backup for more than " + `${maxAgeHours} h`,
      description:
        "The newest successful pgBackRest backup (full or incremental) is older than " +
        `pgBackupMaxAgeHours (${maxAgeHours} h), or none ever succeeded.`,
    },
    {
      alert: "PgBackupFailed",
      expr: "pve_ha_pg_backup_last_run_ok == 0",
      for: "0s",
      severity: "warning",
      summary: "The last {{ $labels.type }} backup on {{ $labels.node }} failed",
      description: "journalctl -u pgbackrest-{{ $labels.type }} on {{ $labels.node }} says why.",
    },
    {
      alert: "PgWalArchiveFailing",
      expr:
        "increase(pg_archiver_failed_count[5m]) > 0 and " +
        "pg_archiver_last_failed_time > pg_archiver_last_archived_time",
      for: "2m",
      severity: "critical",
      summary: "WAL archiving fails on {{ $labels.node }}",
      description:
        "archive_command keeps failing: WAL piles up in pg_wal and a restore would lose " +
        "everything after the last archived segment.",
    },
  ];
}

/**
 * pgFailover auto: Patroni 3.0.2's /metrics (job "patroni", one target per PostgreSQL node, label
 * scope). A failover takes at most ttl + 1 s (8 s by default): "no leader" needs two evaluations
 * in a row, so one scrape during a failover pages nobody. The timeline goes up with every
 * promotion; comparing with 10 minutes ago keeps the failover alert up that long, whatever the
 * nodes did meanwhile (a restarting node reports timeline 0, a gap in the max of both is rare).
 */
const PATRONI_RULES: AlertRule[] = [
  {
    alert: "PatroniNoLeader",
    expr: "sum(patroni_primary) < 1 or absent(patroni_primary)",
    for: "10s",
    severity: "critical",
    summary: "No PostgreSQL node holds Patroni's leader lock",
    description:
      "No Patroni reports itself primary, or none answers its /metrics: HAProxy sends writes " +
      "nowhere. Patroni elects a leader within ttl of a loss; longer means etcd has no quorum " +
      "or no replica may take over (patronictl -c /etc/patroni/15-main.yml list).",
  },
  {
    alert: "PatroniFailover",
    expr:
      "max by (scope) (patroni_postgres_timeline) > " +
      "max by (scope) (patroni_postgres_timeline offset 10m)",
    for: "0s",
    severity: "warning",
    summary: "Patroni promoted a new primary in cluster {{ $labels.scope }}",
    description:
      "The PostgreSQL timeline of {{ $labels.scope }} went up in the last 10 minutes: a " +
      "failover or switchover. journalctl -u patroni@15-main on both nodes says why the old " +
      "leader lost the lock.",
  },
  {
    alert: "PatroniReplicaNotStreaming",
    expr: "patroni_replica == 1 and on(node) pg_replica_wal_receiver_streaming == 0",
    for: "1m",
    severity: "critical",
    summary: "Patroni replica {{ $labels.node }} is not streaming WAL",
    description:
      "Patroni runs {{ $labels.node }} as a replica but its WAL receiver is not streaming: it " +
      "falls behind, and past maximum_lag_on_failover it may not take over.",
  },
  {
    alert: "PatroniNoReplica",
    expr:
      "sum by (scope) (patroni_primary) >= 1 unless on(scope) " +
      "sum by (scope) (patroni_replica) >= 1",
    for: "1m",
    severity: "critical",
    summary: "Patroni cluster {{ $labels.scope }} has no replica",
    description:
      "The leader of {{ $labels.scope }} runs without a replica (down, or not cloned yet): " +
      "losing it now loses the database until a person restores it.",
  },
];

/**
 * The stack's alert rules for its layout (the LB pair's only with one); label templates use only
 * $labels so tests can expand them.
 */
export function alertRules(t: AlertThresholds, layout: ObservedLayout): AlertRule[] {
  check("memoryAvailableRatio", t.memoryAvailableRatio, 1);
  check("diskAvailableRatio", t.diskAvailableRatio, 1);
  check("replicationLagSeconds", t.replicationLagSeconds);
  check("replicationLagBytes", t.replicationLagBytes);
  check("consumerLag", t.consumerLag);
  return [
    {
      alert: "TargetDown",
      expr: "up == 0",
      for: "1m",
      severity: "warning",
      summary: "{{ $labels.job }} target on {{ $labels.node }} is down",
      description: "Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}).",
    },
    {
      alert: "LbBackendDown",
      expr: 'up{job="app"} == 0',
      for: "30s",
      severity: "critical",
      summary: "Load balancer backend {{ $labels.node }} is down",
      description:
        "The app on {{ $labels.instance }} does not answer; nginx sends its share elsewhere.",
    },
    {
      alert: "PgProxyBackendDown",
      expr: 'haproxy_backend_status{state="DOWN"} == 1',
      for: "30s",
      severity: "critical",
      summary: "HAProxy backend {{ $labels.proxy }} on {{ $labels.node }} has no server up",
      description:
        "Connections to {{ $labels.proxy }} are refused until a server passes its check.",
    },
    {
      alert: "PostgresDown",
      expr: 'pg_up == 0 or up{job="postgres"} == 0',
      for: "30s",
      severity: "critical",
      summary: "PostgreSQL on {{ $labels.node }} is down",
      description:
        "postgres_exporter on {{ $labels.instance }} cannot reach PostgreSQL, or is down.",
    },
    {
      alert: "PostgresStandbyNotStreaming",
      expr: "pg_replica_is_replica == 1 and pg_replica_wal_receiver_streaming == 0",
      for: "1m",
      severity: "critical",
      summary: "Standby {{ $labels.node }} is not streaming WAL",
      description: "The WAL receiver of {{ $labels.node }} is not in state streaming.",
    },
    {
      alert: "PostgresPrimaryWithoutStreamingStandby",
      expr:
        "pg_replica_is_replica == 0 unless on(instance) " +
        'pg_stat_replication_pg_wal_lsn_diff{state="streaming"}',
      for: "1m",
      severity: "critical",
      summary: "Primary {{ $labels.node }} has no streaming standby",
      description: "pg_stat_replication on {{ $labels.node }} shows no standby in state streaming.",
    },
    {
      alert: "PostgresReplicationLagHigh",
      expr:
        `pg_replica_lag_seconds > ${t.replicationLagSeconds} or ` +
        `pg_stat_replication_pg_wal_lsn_diff > ${t.replicationLagBytes}`,
      for: "1m",
      severity: "warning",
      summary: "Replication lag high on {{ $labels.node }}",
      description:
        "The standby replays WAL too late (threshold " +
        `${t.replicationLagSeconds} s or ${t.replicationLagBytes} bytes).`,
    },
    {
      alert: "KafkaUnderReplicatedPartitions",
      expr: "kafka_server_replicamanager_underreplicatedpartitions > 0",
      for: "1m",
      severity: "warning",
      summary: "Broker {{ $labels.node }} has under-replicated partitions",
      description: "Some partitions led by {{ $labels.node }} miss an in-sync replica.",
    },
    {
      alert: "KafkaOfflinePartitions",
      expr: "max(kafka_controller_kafkacontroller_offlinepartitionscount) > 0",
      for: "30s",
      severity: "critical",
      summary: "Kafka has offline partitions",
      description: "At least one partition has no leader; producers to it fail.",
    },
    {
      alert: "KafkaControllerQuorumLost",
      expr:
        `sum(${CONTROLLER_UP}) <= count(${CONTROLLER_UP}) / 2 or ` +
        "sum(kafka_controller_kafkacontroller_activecontrollercount) < 1",
      for: "1m",
      severity: "critical",
      summary: "Kafka KRaft controller quorum lost",
      description: "Not enough controller voters are up, or no controller is active.",
    },
    {
      alert: "KafkaConsumerLagHigh",
      expr: `sum by (consumergroup, topic) (kafka_consumergroup_lag) > ${t.consumerLag}`,
      for: "2m",
      severity: "warning",
      summary: "Consumer group {{ $labels.consumergroup }} lags on {{ $labels.topic }}",
      description: `The group is more than ${t.consumerLag} messages behind.`,
    },
    {
      alert: "AppConsumerLagHigh",
      expr: `sum by (node) (app_consumer_lag) > ${t.consumerLag}`,
      for: "2m",
      severity: "warning",
      summary: "The app consumer on {{ $labels.node }} lags",
      description: `The consumer of {{ $labels.node }} is more than ${t.consumerLag} records behind.`,
    },
    {
      alert: "NodeMemoryLow",
      expr:
        "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < " +
        `${t.memoryAvailableRatio}`,
      for: "5m",
      severity: "warning",
      summary: "Memory low on {{ $labels.node }}",
      description: `Less than ${t.memoryAvailableRatio * 100} % of memory is available.`,
    },
    {
      alert: "NodeDiskLow",
      expr:
        'node_filesystem_avail_bytes{mountpoint="/"} / ' +
        `node_filesystem_size_bytes{mountpoint="/"} < ${t.diskAvailableRatio}`,
      for: "5m",
      severity: "warning",
      summary: "Root filesystem almost full on {{ $labels.node }}",
      description: `Less than ${t.diskAvailableRatio * 100} % of / is free.`,
    },
    ...(layout.lbPair ? LB_PAIR_RULES : []),
    ...(layout.backupMaxAgeHours === undefined ? [] : backupRules(layout.backupMaxAgeHours)),
    ...(layout.patroni ? PATRONI_RULES : []),
  ];
}

/** Prometheus rule file text for the given rules. */
export function renderAlertRules(rules: AlertRule[]): string {
  const doc = {
    groups: [
      {
        name: "pve-ha",
        rules: rules.map((r) => ({
          alert: r.alert,
          expr: r.expr,
          for: r.for,
          labels: { severity: r.severity },
          annotations: { summary: r.summary, description: r.description },
        })),
      },
    ],
  };
  return stringify(doc, { lineWidth: 0 });
}

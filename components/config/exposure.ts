/**
 * Who may reach what in the stack: one rule per (node, protocol, port) with the addresses allowed
 * to reach it. Everything not listed is dropped by a firewall built from these rules (the Proxmox
 * firewall now, the containers' own nftables later), so this module knows no Proxmox type. A node
 * reaching itself never crosses its network interface: it is left out of the sources, and a rule
 * left with no source is dropped.
 */
import { failoverPlan } from "./failoverPlan";
import type { PgFailoverMode } from "./pgFailover";
import type { NodePlan, StackConfig } from "./types";
import { PORTS } from "./ports";

/** "vrrp" is IP protocol 112 (keepalived), "icmp" ping. */
export type ExposureProto = "tcp" | "udp" | "icmp" | "vrrp";

export interface ExposureRule {
  /** Plan name of the node that is reached. */
  node: string;
  proto: ExposureProto;
  /** Destination port (tcp and udp only). */
  port?: number;
  /** IPv4 addresses or CIDRs allowed to reach it. */
  sources: string[];
  purpose: string;
}

export interface ExposureOptions {
  /** The app nodes' HTTP port (appPort). */
  appPort: number;
  grafana: boolean;
  kafkaExporter: boolean;
  /** Where people and the drills reach the monitor's UIs and HAProxy's stats from. */
  operatorSources: readonly string[];
  /** The stack's own network (networkCidr): ping from it. */
  networkCidr: string;
  /** The node holding the pgBackRest repository; "" when backups are off. */
  backupRepoNode: string;
  /** The LBs' TLS listener (lbTls not "off"): PORTS.https from anywhere. */
  https?: boolean;
  /** "auto": etcd and Patroni's REST API instead of the role-check agent (absent: manual). */
  pgFailover?: PgFailoverMode;
}

/** Any IPv4 address: the LBs' HTTP port is the stack's front door. */
export const ANYWHERE = "0.0.0.0/0";

/** The options of a configuration; operators default to the stack's own network. */
export function exposureOptionsOf(
  cfg: Pick<StackConfig, "app" | "observability" | "network" | "backup"> &
    Partial<Pick<StackConfig, "frontDoor" | "pg">>,
  operatorSources: readonly string[] = [cfg.network.cidr],
): ExposureOptions {
  return {
    ...(cfg.frontDoor && cfg.frontDoor.tls !== "off" ? { https: true } : {}),
    appPort: cfg.app.port,
    grafana: cfg.observability.grafanaEnabled,
    kafkaExporter: cfg.observability.kafkaExporterEnabled,
    operatorSources,
    networkCidr: cfg.network.cidr,
    backupRepoNode: cfg.backup.enabled ? cfg.backup.repoNode : "",
    ...(cfg.pg?.failover.mode === "auto" ? { pgFailover: "auto" as const } : {}),
  };
}

const ips = (plans: readonly NodePlan[]) => plans.map((p) => p.ip);

/** Every rule of the stack, in plan order of the node reached. */
export function exposureRules(plans: readonly NodePlan[], opts: ExposureOptions): ExposureRule[] {
  const role = (...roles: NodePlan["role"][]) => plans.filter((p) => roles.includes(p.role));
  const lbs = ips(role("nginx"));
  const apps = ips(role("app"));
  const pgs = role("pg-primary", "pg-standby");
  const haproxy = ips(role("haproxy"));
  const kafka = role("kafka");
  const monitor = ips(role("monitor"));
  const operators = [...opts.operatorSources];
  const backupRepo = ips(plans.filter((p) => p.name === opts.backupRepoNode));

  /** pgBackRest's TLS server: the repository archives and backs up, the PG nodes push WAL. */
  const backupRules = (node: NodePlan): Omit<ExposureRule, "node">[] => {
    if (backupRepo.length === 0) return [];
    const tls = (sources: string[], purpose: string) => [
      { proto: "tcp" as const, port: PORTS.pgbackrestTls, sources, purpose },
    ];
    if (node.name === opts.backupRepoNode) return tls(ips(pgs), "pgBackRest WAL archive-push");
    if (pgs.includes(node)) return tls(backupRepo, "pgBackRest backups from the repository");
    return [];
  };

  /**
   * pgFailover auto: etcd clients are the members' Patroni (and etcdctl on a member), peers the
   * members; Patroni's REST API on 8008 (where manual mode has its role check) answers HAProxy's
   * checks, the other PostgreSQL node's Patroni (it asks before a promotion) and the scrape.
   */
  const failoverRules = (node: NodePlan): Omit<ExposureRule, "node">[] => {
    if (opts.pgFailover !== "auto") return [];
    const { etcdMembers, patroniNodes } = failoverPlan(plans);
    const tcp = (port: number, sources: string[], purpose: string) => [
      { proto: "tcp" as const, port, sources, purpose },
    ];
    const rules: Omit<ExposureRule, "node">[] = [];
    if (patroniNodes.includes(node)) {
      rules.push(
        ...tcp(
          PORTS.patroniRestApi,
          [...haproxy, ...ips(patroniNodes), ...monitor],
          "Patroni REST API: HAProxy checks, the other Patroni, /metrics scrape",
        ),
      );
    }
    if (etcdMembers.includes(node)) {
      rules.push(
        ...tcp(PORTS.etcdClient, ips([...etcdMembers, ...patroniNodes]), "etcd clients (Patroni)"),
        ...tcp(PORTS.etcdPeer, ips(etcdMembers), "etcd peers"),
      );
    }
    return rules;
  };

  const rulesOf = (node: NodePlan): Omit<ExposureRule, "node">[] => {
    const tcp = (port: number, sources: string[], purpose: string) => ({
      proto: "tcp" as const,
      port,
      sources,
      purpose,
    });
    const common = [
      { proto: "icmp" as const, sources: [opts.networkCidr], purpose: "ping" },
      tcp(PORTS.nodeExporter, monitor, "node_exporter scrape"),
    ];
    switch (node.role) {
      case "nginx":
        return [
          ...common,
          tcp(PORTS.http, [ANYWHERE], "HTTP front door"),
          ...(opts.https ? [tcp(PORTS.https, [ANYWHERE], "HTTPS front door")] : []),
          tcp(PORTS.nginxExporter, monitor, "nginx exporter scrape"),
          { proto: "vrrp", sources: lbs, purpose: "keepalived VRRP of the LB pair" },
        ];
      case "app":
        return [
          ...common,
          tcp(opts.appPort, lbs, "app HTTP from the LBs"),
          tcp(opts.appPort, monitor, "app /metrics scrape"),
        ];
      case "haproxy":
        return [
          ...common,
          tcp(PORTS.haproxyReadWrite, apps, "PostgreSQL read-write via HAProxy"),
          tcp(PORTS.haproxyReadOnly, apps, "PostgreSQL read-only via HAProxy"),
          tcp(PORTS.haproxyStats, [...monitor, ...operators], "HAProxy stats and /metrics"),
        ];
      case "pg-primary":
      case "pg-standby":
        return [
          ...common,
          tcp(PORTS.postgres, [...haproxy, ...ips(pgs)], "PostgreSQL from HAProxy, replication"),
          ...(opts.pgFailover === "auto"
            ? []
            : [tcp(PORTS.pgRoleCheck, haproxy, "role check for HAProxy")]),
          tcp(PORTS.postgresExporter, monitor, "postgres_exporter scrape"),
        ];
      case "kafka": {
        const rules = [...common, tcp(PORTS.jmxAgent, monitor, "Kafka JMX agent scrape")];
        if (node.kafkaRoles?.includes("broker")) {
          const clients = [...apps, ...ips(kafka), ...(opts.kafkaExporter ? monitor : [])];
          rules.push(tcp(PORTS.kafka, clients, "Kafka clients, replication, kafka_exporter"));
        }
        if (node.kafkaRoles?.includes("controller")) {
          rules.push(tcp(PORTS.kafkaController, ips(kafka), "KRaft controller quorum"));
        }
        return rules;
      }
      case "monitor":
        return [
          ...common,
          tcp(PORTS.prometheus, operators, "Prometheus UI and API"),
          tcp(PORTS.alertmanager, operators, "Alertmanager UI and API"),
          ...(opts.grafana ? [tcp(PORTS.grafana, operators, "Grafana")] : []),
        ];
    }
  };

  return plans.flatMap((node) =>
    [...rulesOf(node), ...failoverRules(node), ...backupRules(node)]
      .map((rule) => ({
        node: node.name,
        ...rule,
        sources: [...new Set(rule.sources.filter((s) => s !== node.ip))],
      }))
      .filter((rule) => rule.sources.length > 0),
  );
}

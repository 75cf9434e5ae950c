import { PGBACKREST_STANZA } from "./backup";
import { DEFAULT_MAX_BODY_BYTES } from "./frontDoor";
import { exposureOptionsOf, exposureRules, type ExposureRule } from "./exposure";
import { etcdEndpoints, failoverPlan, PATRONI_SCOPE } from "./failoverPlan";
import { writeResumeBoundMs, type PgFailoverMode } from "./pgFailover";
import { lbNodes, singleNodes } from "./plan";
import { PORTS } from "./ports";
import type { NodePlan, NodeRole, StackConfig } from "./types";

export interface NodeEndpoint {
  vmid: number;
  ip: string;
  role: NodeRole;
  proxmoxNode: string;
  kafkaRoles?: string[];
}

/** SSH access to one Proxmox host, where the `pct` commands for its containers run. */
export interface HostEndpoint {
  sshHost: string;
  sshPort: number;
  sshUser: string;
}

/** The settings tests and drills judge the deployed stack by (read from outputs, never guessed). */
export interface StackSettings {
  appPort: number;
  lbAlgorithm: string;
  /** 1: one LB, lbUrl at its address; 2: two LBs, lbUrl at the keepalived virtual IP. */
  lbReplicas: number;
  /** VRRP advert interval of the LB pair: a dead MASTER is noticed after about 3 of them. */
  lbVrrpAdvertIntervalMs: number;
  kafkaTopic: string;
  kafkaPartitions: number;
  kafkaReplicationFactor: number;
  kafkaMinInsyncReplicas: number;
  kafkaControllerVoters: number;
  appKafkaPublishDeadlineMs: number;
  pgDatabase: string;
  /** Front door (README "Front door security"): lbUrl is https when plain HTTP redirects. */
  lbTls: string;
  lbRedirectHttp: boolean;
  /** /admin needs basic auth as lbAdminUser (password: the secret output adminPassword). */
  lbAdminAuth: boolean;
  lbAdminUser: string;
  /** nftables in every container: only operatorCidr reaches the monitor's UIs, HAProxy stats. */
  containerFirewall: boolean;
  operatorCidr: string;
  /** POSTs per second and burst per client at the LBs (0: no limit); the body limit in bytes. */
  lbPostRatePerSecond: number;
  lbPostBurst: number;
  lbMaxBodyBytes: number;
}

/** The backup repository (pgBackRest) as the restore drill needs it. */
export interface BackupEndpoint {
  enabled: boolean;
  /** Node holding the repository; "" when backups are off. */
  repoNode: string;
  stanza: string;
  /** Port of the scratch instance a restore starts on the repository node. */
  restoreScratchPort: number;
  archiveTimeoutSeconds: number;
}

/**
 * How PostgreSQL fails over (pgFailover), as the failover drills need it. Manual: the lists are
 * empty and the bound is 0 (a person promotes the standby).
 */
export interface PgFailoverEndpoint {
  mode: PgFailoverMode;
  /** Patroni's cluster name (patronictl -c /etc/patroni/15-main.yml list shows it); "" manual. */
  patroniScope: string;
  /** Patroni's REST API by node (GET /primary, /replica, /cluster, /metrics). */
  patroniRestApis: Record<string, string>;
  /** The etcd members' names and client endpoints (ip:port), in the same order. */
  etcdMembers: string[];
  etcdEndpoints: string[];
  /** synchronous_mode: a commit waits for the replica while one streams. */
  synchronous: boolean;
  /** Worst case from a hard loss of the primary until writes through HAProxy resume, in ms. */
  writeResumeBoundMs: number;
}

/** The stack outputs the drills and the sandbox read (all plain: no secret in here). */
export interface StackEndpoints {
  /** At the virtual IP with two LBs, else at the one LB's address. */
  lbUrl: string;
  /** The TLS front door (`https://<same host>/`); "" with lbTls off. */
  lbHttpsUrl: string;
  adminUrl: string;
  /** The address keepalived moves between the two LBs; "" with one LB. */
  lbVirtualIp: string;
  /** Names of the LB nodes (role "nginx"): ["lb"] or ["lb", "lb2"]. */
  lbNodes: string[];
  haproxyReadWrite: string;
  haproxyReadOnly: string;
  haproxyStatsUrl: string;
  pgPrimary: string;
  pgStandby: string;
  kafkaBootstrapServers: string;
  kafkaTopic: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  grafanaUrl: string;
  /** SSH host of the first Proxmox host (the only one by default). */
  proxmoxHost: string;
  /** Every Proxmox host by node name; each node's `proxmoxNode` names one. */
  proxmoxHosts: Record<string, HostEndpoint>;
  nodes: Record<string, NodeEndpoint>;
  pgBackup: BackupEndpoint;
  pgFailover: PgFailoverEndpoint;
  settings: StackSettings;
  /**
   * Who may reach what (config/exposure.ts, operators = operatorCidr): what the containers'
   * nftables enforce with containerFirewall, and what the security drill walks either way.
   */
  exposure: ExposureRule[];
}

export function kafkaBrokerPlans(plans: readonly NodePlan[]): NodePlan[] {
  return plans.filter((p) => p.role === "kafka" && p.kafkaRoles?.includes("broker"));
}

/** The pgFailover output of a manual-mode stack (and of stacks older than the output). */
export const MANUAL_FAILOVER_ENDPOINT: Readonly<PgFailoverEndpoint> = {
  mode: "manual",
  patroniScope: "",
  patroniRestApis: {},
  etcdMembers: [],
  etcdEndpoints: [],
  synchronous: false,
  writeResumeBoundMs: 0,
};

export function pgFailoverEndpoint(
  cfg: Pick<StackConfig, "pg">,
  plans: readonly NodePlan[],
): PgFailoverEndpoint {
  const { mode, synchronous, patroni, haproxyCheck } = cfg.pg.failover;
  if (mode === "manual") return MANUAL_FAILOVER_ENDPOINT;
  const plan = failoverPlan(plans);
  return {
    mode,
    patroniScope: PATRONI_SCOPE,
    patroniRestApis: Object.fromEntries(
      plan.patroniNodes.map((p) => [p.name, `${p.ip}:${PORTS.patroniRestApi}`]),
    ),
    etcdMembers: plan.etcdMembers.map((p) => p.name),
    etcdEndpoints: etcdEndpoints(plans),
    synchronous,
    writeResumeBoundMs: writeResumeBoundMs(patroni, haproxyCheck),
  };
}

export function stackEndpoints(cfg: StackConfig, plans: readonly NodePlan[]): StackEndpoints {
  const { pgPrimary, pgStandby, pgProxy, monitor } = singleNodes(plans);
  const lbs = lbNodes(plans);
  const lbVirtualIp = cfg.lb.replicas === 2 ? cfg.lb.virtualIp : "";
  if (cfg.lb.replicas === 2 && lbVirtualIp === "") {
    throw new Error(
      "endpoints: two LBs but no virtual IP (a config that parseConfig did not return)",
    );
  }
  const lbHost = lbVirtualIp || lbs[0].ip;
  const scheme = cfg.frontDoor.tls !== "off" && cfg.frontDoor.redirectHttp ? "https" : "http";
  const nodes: Record<string, NodeEndpoint> = {};
  for (const p of plans) {
    nodes[p.name] = {
      vmid: p.vmid,
      ip: p.ip,
      role: p.role,
      proxmoxNode: p.proxmoxNode,
      ...(p.kafkaRoles ? { kafkaRoles: [...p.kafkaRoles] } : {}),
    };
  }
  return {
    lbUrl: `${scheme}://${lbHost}/`,
    lbHttpsUrl: cfg.frontDoor.tls !== "off" ? `https://${lbHost}/` : "",
    adminUrl: `${scheme}://${lbHost}/admin`,
    lbVirtualIp,
    lbNodes: lbs.map((p) => p.name),
    haproxyReadWrite: `${pgProxy.ip}:${PORTS.haproxyReadWrite}`,
    haproxyReadOnly: `${pgProxy.ip}:${PORTS.haproxyReadOnly}`,
    haproxyStatsUrl: `http://${pgProxy.ip}:${PORTS.haproxyStats}/stats`,
    pgPrimary: `${pgPrimary.ip}:${PORTS.postgres}`,
    pgStandby: `${pgStandby.ip}:${PORTS.postgres}`,
    kafkaBootstrapServers: kafkaBrokerPlans(plans)
      .map((p) => `${p.ip}:${PORTS.kafka}`)
      .join(","),
    kafkaTopic: cfg.kafka.topic,
    prometheusUrl: `http://${monitor.ip}:${PORTS.prometheus}`,
    alertmanagerUrl: `http://${monitor.ip}:${PORTS.alertmanager}`,
    grafanaUrl: cfg.observability.grafanaEnabled ? `http://${monitor.ip}:${PORTS.grafana}` : "",
    proxmoxHost: cfg.hosts[0]?.sshHost ?? cfg.proxmox.sshHost,
    proxmoxHosts: Object.fromEntries(
      cfg.hosts.map((h) => [
        h.name,
        { sshHost: h.sshHost, sshPort: h.sshPort, sshUser: h.sshUser },
      ]),
    ),
    nodes,
    pgBackup: {
      enabled: cfg.backup.enabled,
      repoNode: cfg.backup.enabled ? cfg.backup.repoNode : "",
      stanza: PGBACKREST_STANZA,
      restoreScratchPort: PORTS.pgRestoreScratch,
      archiveTimeoutSeconds: cfg.backup.archiveTimeoutSeconds,
    },
    pgFailover: pgFailoverEndpoint(cfg, plans),
    settings: {
      appPort: cfg.app.port,
      lbAlgorithm: cfg.lb.algorithm,
      lbReplicas: cfg.lb.replicas,
      lbVrrpAdvertIntervalMs: cfg.lb.vrrpAdvertIntervalMs,
      kafkaTopic: cfg.kafka.topic,
      kafkaPartitions: cfg.kafka.partitions,
      kafkaReplicationFactor: cfg.kafka.replicationFactor,
      kafkaMinInsyncReplicas: cfg.kafka.minInsyncReplicas,
      kafkaControllerVoters: cfg.kafka.controllerVoters,
      appKafkaPublishDeadlineMs: cfg.app.kafkaPublishDeadlineMs,
      pgDatabase: cfg.pg.database,
      lbTls: cfg.frontDoor.tls,
      lbRedirectHttp: cfg.frontDoor.redirectHttp,
      lbAdminAuth: cfg.frontDoor.adminAuth,
      lbAdminUser: cfg.frontDoor.adminUser,
      containerFirewall: cfg.firewall.enabled,
      operatorCidr: cfg.firewall.operatorCidr,
      lbPostRatePerSecond: cfg.frontDoor.postRatePerSecond,
      lbPostBurst: cfg.frontDoor.postBurst,
      lbMaxBodyBytes: cfg.frontDoor.maxBodyBytes || DEFAULT_MAX_BODY_BYTES,
    },
    exposure: exposureRules(plans, exposureOptionsOf(cfg, [cfg.firewall.operatorCidr])),
  };
}

/** The port of a `host:port` endpoint output. */
export function endpointPort(endpoint: string): number {
  const port = Number(endpoint.split(":").pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port in ${endpoint}`);
  return port;
}

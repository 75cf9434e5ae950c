/** Typed stack configuration: what `loadConfig` returns after `validateConfig` found no problem. */
import type { HaproxyCheckTimings, PatroniTimings, PgFailoverMode } from "./pgFailover";

export type NodeRole =
  "nginx" | "app" | "pg-primary" | "pg-standby" | "haproxy" | "kafka" | "monitor";
export type KafkaNodeRole = "broker" | "controller";
export type LbAlgorithm = "round_robin" | "least_conn" | "ip_hash";
export type AppLogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

export const LB_ALGORITHMS: readonly LbAlgorithm[] = ["round_robin", "least_conn", "ip_hash"];
export const APP_LOG_LEVELS: readonly AppLogLevel[] = [
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "fatal",
];

/** Where a binary comes from: a download checked by its digest, or a file on the Pulumi host. */
export type ArtifactSource =
  | { kind: "url"; url: string; sha256?: string; sha512?: string }
  | { kind: "local"; localPath: string };

export type ArtifactName =
  "kafka" | "jmxAgent" | "kafkaExporter" | "node" | "app" | "grafana" | "patroni";
export const ARTIFACT_NAMES: readonly ArtifactName[] = [
  "kafka",
  "jmxAgent",
  "kafkaExporter",
  "node",
  "app",
  "grafana",
  "patroni",
];

export interface NodeOverride {
  vmid?: number;
  ip?: string;
  cores?: number;
  memoryMb?: number;
  diskGb?: number;
  proxmoxNode?: string;
}

export interface ProxmoxSettings {
  /** Proxmox VE node the containers are created on (per-node override: nodes.<name>.proxmoxNode). */
  node: string;
  /** HTTPS API endpoint, from the provider's `proxmoxve:endpoint`. */
  endpoint: string;
  /** SSH access to the Proxmox host, where `pct exec` / `pct push` run. */
  sshHost: string;
  sshPort: number;
  sshUser: string;
  /** Secret. */
  sshPrivateKey: string;
  datastoreId: string;
  templateDatastoreId: string;
  bridge: string;
  /** Directory on the Proxmox host where binary artifacts are staged before `pct push`. */
  hostStagingDir: string;
  /** Provider timeout of container create/update/delete, in seconds. */
  containerTimeoutSeconds: number;
  /** protect + retainOnDelete + fixed template on the PostgreSQL and Kafka containers. */
  protectData: boolean;
  /** OpenSSH public keys for root, given to containers at creation only (changes are ignored). */
  containerSshPublicKeys: string[];
  /** Proxmox firewall per container: input DROP except what config/exposure.ts allows. */
  firewall: boolean;
  /** A Proxmox vzdump job of the stack's containers; schedule "" = none. */
  vzdump: VzdumpSettings;
}

/** The optional Proxmox backup job (vzdump) of every container of the stack. */
export interface VzdumpSettings {
  /** Proxmox calendar event ("daily", "02:30"); empty: no job. */
  schedule: string;
  storage: string;
  /** Backups kept per container (keep-last). */
  keepLast: number;
}

/** One Proxmox VE host (a node of the Proxmox cluster) and SSH access to it for `pct`. */
export interface ProxmoxHost {
  /** Proxmox node name: the containers' nodeName, and what nodes.<name>.proxmoxNode names. */
  name: string;
  sshHost: string;
  sshPort: number;
  sshUser: string;
  /** Secret. */
  sshPrivateKey: string;
}

export interface PlacementSettings {
  /** Accept a layout that one host loss can take down (test rigs). */
  allowUnsafe: boolean;
  /** Register every container as a Proxmox HA resource (needs shared storage to relocate). */
  proxmoxHa: boolean;
}

export interface TemplateSettings {
  /** An existing template (`<datastore>:vztmpl/<file>`); empty means download templateUrl. */
  fileId: string;
  url: string;
  /** sha512 of the template file; empty skips the check. */
  sha512: string;
}

export interface NetworkSettings {
  cidr: string;
  gateway: string;
  /** Host number inside the CIDR of the first node; node i gets firstHost + i. */
  firstHost: number;
  dnsServers: string[];
  searchDomain: string;
}

/** 1: the paper's single LB, no keepalived. 2: lb + lb2 behind a keepalived (VRRP) virtual IP. */
export type LbReplicas = 1 | 2;
export const LB_REPLICAS: readonly LbReplicas[] = [1, 2];

/** lbProbeIntervalMs, lbProbeTimeoutMs, lbProbeFailures; intervalMs 0 = no active check. */
export interface LbProbeSettings {
  intervalMs: number;
  timeoutMs: number;
  failures: number;
}

export interface LbSettings {
  algorithm: LbAlgorithm;
  maxFails: number;
  failTimeoutSeconds: number;
  connectTimeoutMs: number;
  /** The LBs' active check of the app nodes (render/upstreamWatch.ts). */
  probe: LbProbeSettings;
  replicas: LbReplicas;
  /**
   * The virtual IP of the LB pair: lbVirtualIp, else the highest host address of the network that
   * is neither the gateway nor a node's. Always an address; only used with replicas 2.
   */
  virtualIp: string;
  /** VRRP virtual_router_id (1-255). */
  vrrpRouterId: number;
  /** VRRPv3 advertisement interval in ms (a multiple of 10: VRRPv3 counts centiseconds). */
  vrrpAdvertIntervalMs: number;
}

/** lbTls: no TLS listener, a certificate each LB makes for itself, or one from the settings. */
export type LbTlsMode = "off" | "self-signed" | "provided";
/**
 * The lbTls setting: a mode, or "auto" (the default), which parseConfig resolves to "provided"
 * when lbTlsCertificate is set and to "self-signed" otherwise.
 */
export type LbTlsSetting = LbTlsMode | "auto";
export const LB_TLS_SETTINGS: readonly LbTlsSetting[] = ["auto", "off", "self-signed", "provided"];

/** The LBs' front-door options (README "Front door security"); all on by default. */
export interface FrontDoorSettings {
  /** The resolved mode (never "auto"). */
  tls: LbTlsMode;
  /** Secret PEM text; "" unless tls is "provided". */
  tlsCertificate: string;
  tlsPrivateKey: string;
  /** Plain HTTP only redirects to https (tls on only). */
  redirectHttp: boolean;
  adminAuth: boolean;
  adminUser: string;
  /** Secret; "" = a generated password (random.RandomPassword, secret output adminPassword). */
  adminPassword: string;
  /** 0 = no per-client POST rate limit. */
  postRatePerSecond: number;
  postBurst: number;
  /** 0 = nginx's 1 MiB body limit as before. */
  maxBodyBytes: number;
}

/** nftables inside the containers (containerFirewall) and who counts as an operator. */
export interface ContainerFirewallSettings {
  enabled: boolean;
  /** operatorCidr, or networkCidr when it is empty. */
  operatorCidr: string;
}

export interface AppSettings {
  replicas: number;
  port: number;
  logLevel: AppLogLevel;
  pgPoolMax: number;
  kafkaSessionTimeoutMs: number;
  kafkaHeartbeatIntervalMs: number;
  /** How long a POST waits for the Kafka ack before a 503; the LB's read timeout derives from it. */
  kafkaPublishDeadlineMs: number;
  /** TCP connect timeout of the app's Kafka clients. */
  kafkaConnectTimeoutMs: number;
  /** How long the app's Kafka clients wait for a broker's answer before asking another broker. */
  kafkaRequestTimeoutMs: number;
}

export interface PgSettings {
  database: string;
  appUser: string;
  replicationUser: string;
  replicationSlot: string;
  maxSlotWalKeepSize: string;
  sharedBuffersMb: number;
  /** pgParameters: extra PostgreSQL parameters, name -> value ({} by default). */
  parameters: Record<string, string>;
  failover: PgFailoverSettings;
}

/**
 * pgFailover and the Patroni/HAProxy timings (config/pgFailover.ts: the arithmetic; auto is wired
 * by PgReplicatedPair through patroniPair.ts).
 */
export interface PgFailoverSettings {
  mode: PgFailoverMode;
  synchronous: boolean;
  patroni: PatroniTimings;
  haproxyCheck: HaproxyCheckTimings;
}

/** pgBackRest: full + incremental backups and the WAL archive on a repository node. */
export interface BackupSettings {
  enabled: boolean;
  /** The node that holds the repository (not a PostgreSQL node). */
  repoNode: string;
  repoPath: string;
  /** systemd OnCalendar expressions. */
  fullSchedule: string;
  incrSchedule: string;
  retentionFull: number;
  /** archive_timeout: the longest a committed row waits for its WAL segment to be archived. */
  archiveTimeoutSeconds: number;
  /** The alert fires when the newest successful backup is older than this. */
  maxAgeHours: number;
}

export interface KafkaSettings {
  brokers: number;
  controllerVoters: number;
  topic: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  heapMb: number;
  groupMinSessionTimeoutMs: number;
  brokerSessionTimeoutMs: number;
  brokerHeartbeatIntervalMs: number;
  replicaLagTimeMaxMs: number;
  offsetsTopicPartitions: number;
  controllerQuorumFetchTimeoutMs: number;
  controllerQuorumElectionTimeoutMs: number;
}

export interface ObservabilitySettings {
  grafanaEnabled: boolean;
  kafkaExporterEnabled: boolean;
  prometheusRetention: string;
  scrapeIntervalSeconds: number;
}

export interface StackConfig {
  proxmox: ProxmoxSettings;
  /** The Proxmox hosts, in order; one built from the proxmoxSsh* settings by default. */
  hosts: ProxmoxHost[];
  placement: PlacementSettings;
  template: TemplateSettings;
  network: NetworkSettings;
  vmidBase: number;
  nodes: Record<string, NodeOverride>;
  lb: LbSettings;
  /** TLS, /admin auth and POST limits at the LBs. */
  frontDoor: FrontDoorSettings;
  firewall: ContainerFirewallSettings;
  app: AppSettings;
  pg: PgSettings;
  backup: BackupSettings;
  kafka: KafkaSettings;
  observability: ObservabilitySettings;
  artifacts: Partial<Record<ArtifactName, ArtifactSource>>;
  /** Replaces the containers' apt sources (one sources.list text); empty keeps Debian's. */
  aptSources: string;
}

/** One container of the stack, derived by planNodes. */
export interface NodePlan {
  name: string;
  role: NodeRole;
  vmid: number;
  ip: string;
  cidrPrefix: number;
  gateway: string;
  cores: number;
  memoryMb: number;
  diskGb: number;
  proxmoxNode: string;
  /** Kafka nodes only: the KRaft process roles. */
  kafkaRoles?: KafkaNodeRole[];
  /** Kafka nodes only: node.id (1-based, in node order). */
  kafkaNodeId?: number;
  /** Proxmox start order: lower starts first on host boot. */
  startOrder: number;
}

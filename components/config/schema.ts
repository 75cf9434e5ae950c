/**
 * The flat Pulumi config keys of the project (namespace `pve-ha-stack`) with type, default and
 * description. Pulumi.yaml mirrors this table; a unit test keeps the two equal.
 */

export const CONFIG_NAMESPACE = "pve-ha-stack";

export type ScalarType = "string" | "integer" | "boolean";

export interface ScalarSetting {
  type: ScalarType;
  description: string;
  /** Absent for required settings. */
  default?: string | number | boolean;
  secret?: boolean;
}

export const DEFAULT_TEMPLATE_URL =
  "http://download.proxmox.com/images/system/debian-12-standard_12.7-1_amd64.tar.zst";

export const SCALAR_SETTINGS = {
  proxmoxNode: {
    type: "string",
    default: "pve",
    description: "Proxmox VE node that hosts the containers (per node: nodes.<name>.proxmoxNode).",
  },
  proxmoxSshHost: {
    type: "string",
    default: "",
    description:
      "SSH host of the Proxmox node for pct exec/push; empty = host of proxmoxve:endpoint.",
  },
  proxmoxSshPort: { type: "integer", default: 22, description: "SSH port of the Proxmox host." },
  proxmoxSshUser: {
    type: "string",
    default: "root",
    description: "SSH user on the Proxmox host (must be allowed to run pct).",
  },
  proxmoxSshPrivateKey: {
    type: "string",
    secret: true,
    description: "Private key (PEM/OpenSSH) for the Proxmox host. Required, set with --secret.",
  },
  datastoreId: {
    type: "string",
    default: "local-lvm",
    description: "Proxmox storage for the containers' root disks.",
  },
  templateDatastoreId: {
    type: "string",
    default: "local",
    description: "Proxmox storage (content vztmpl) the Debian 12 template is downloaded to.",
  },
  bridge: { type: "string", default: "vmbr0", description: "Linux bridge the containers join." },
  hostStagingDir: {
    type: "string",
    default: "/var/lib/pve-ha-stack/staging",
    description: "Directory on the Proxmox host for artifacts copied from the Pulumi host.",
  },
  allowUnsafePlacement: {
    type: "boolean",
    default: false,
    description:
      "Accept a layout where one host loss takes both PG nodes, every app node, both LBs or most voters.",
  },
  proxmoxHaEnabled: {
    type: "boolean",
    default: false,
    description: "Register every container as a Proxmox HA resource (ct:<vmid>, state started).",
  },
  containerTimeoutSeconds: {
    type: "integer",
    default: 1800,
    description:
      "Provider timeout of container create/update/delete in seconds (Pulumi waits 60 s more).",
  },
  protectData: {
    type: "boolean",
    default: false,
    description:
      "protect + retainOnDelete on the PostgreSQL and Kafka containers, template changes ignored.",
  },
  containerSshPublicKeys: {
    type: "string",
    default: "",
    description:
      "OpenSSH public keys for root, one per line, given to new containers only; empty = none.",
  },
  proxmoxFirewall: {
    type: "boolean",
    default: false,
    description:
      "Proxmox firewall per container, input DROP except the ports each role needs (exposure.ts).",
  },
  proxmoxBackupSchedule: {
    type: "string",
    default: "",
    description:
      "Proxmox calendar event (daily, 02:30) of a vzdump job of the containers; empty = no job.",
  },
  proxmoxBackupStorage: {
    type: "string",
    default: "local",
    description: "Proxmox storage the vzdump job writes to.",
  },
  proxmoxBackupKeepLast: {
    type: "integer",
    default: 7,
    description: "Backups the vzdump job keeps per container (keep-last).",
  },
  templateFileId: {
    type: "string",
    default: "",
    description: "Existing template <datastore>:vztmpl/<file>; empty = download templateUrl.",
  },
  templateUrl: {
    type: "string",
    default: DEFAULT_TEMPLATE_URL,
    description: "Debian 12 LXC template to download when templateFileId is empty.",
  },
  templateSha512: {
    type: "string",
    default: "",
    description: "sha512 of the template download; empty skips the check.",
  },
  networkCidr: {
    type: "string",
    default: "192.168.100.0/24",
    description: "IPv4 network of the containers; node IPs are derived from it.",
  },
  networkGateway: {
    type: "string",
    default: "192.168.100.1",
    description: "Default gateway of the containers (inside networkCidr).",
  },
  networkFirstHost: {
    type: "integer",
    default: 10,
    description: "Host number in networkCidr of the first node; node i gets firstHost + i.",
  },
  dnsServers: {
    type: "string",
    default: "",
    description: "Comma-separated DNS servers of the containers; empty = the gateway.",
  },
  searchDomain: {
    type: "string",
    default: "",
    description: "DNS search domain of the containers; empty = none.",
  },
  vmidBase: {
    type: "integer",
    default: 200,
    description: "VMID of the first node; node i gets vmidBase + i.",
  },
  lbAlgorithm: {
    type: "string",
    default: "round_robin",
    description: "Nginx load-balancing method: round_robin, least_conn or ip_hash.",
  },
  lbMaxFails: {
    type: "integer",
    default: 1,
    description: "Failed attempts before Nginx marks an app node down (passive health check).",
  },
  lbFailTimeoutSeconds: {
    type: "integer",
    default: 2,
    description:
      "Seconds an app node stays skipped after max fails (short: a fault of the LB's own link fails every node).",
  },
  lbConnectTimeoutMs: {
    type: "integer",
    default: 500,
    description: "Nginx proxy_connect_timeout to an app node, in milliseconds.",
  },
  lbProbeIntervalMs: {
    type: "integer",
    default: 200,
    description:
      "Ms between the LBs' TCP probes of each app node; a node silent for lbProbeFailures probes has its LB connections ended (nginx retries elsewhere at once). 0 = off.",
  },
  lbProbeTimeoutMs: {
    type: "integer",
    default: 250,
    description: "Ms one LB probe of an app node waits for the TCP handshake.",
  },
  lbProbeFailures: {
    type: "integer",
    default: 2,
    description: "LB probes in a row without an answer before an app node counts as silent.",
  },
  lbReplicas: {
    type: "integer",
    default: 2,
    description:
      "Nginx load balancers: 2 = lb + lb2 behind a keepalived virtual IP; 1 = the paper's single LB.",
  },
  lbVirtualIp: {
    type: "string",
    default: "",
    description:
      "Virtual IP of the two LBs (lbReplicas 2); empty = highest free host address of networkCidr.",
  },
  lbVrrpRouterId: {
    type: "integer",
    default: 51,
    description: "VRRP virtual_router_id of the LB pair, 1-255, unique on the network segment.",
  },
  lbVrrpAdvertIntervalMs: {
    type: "integer",
    default: 500,
    description:
      "VRRPv3 advert interval in ms (multiple of 10); the backup takes the VIP after ~3 missed.",
  },
  lbTls: {
    type: "string",
    default: "auto",
    description:
      "TLS on the LBs (443, also on the VIP): auto (provided if lbTlsCertificate is set, else self-signed), off, self-signed, provided.",
  },
  lbTlsCertificate: {
    type: "string",
    secret: true,
    description:
      "PEM certificate (chain) of the LBs; required with lbTls provided, set with --secret.",
  },
  lbTlsPrivateKey: {
    type: "string",
    secret: true,
    description:
      "PEM private key of lbTlsCertificate; required with lbTls provided, set with --secret.",
  },
  lbRedirectHttp: {
    type: "boolean",
    default: true,
    description:
      "With lbTls on: plain HTTP only answers 301 to https (and HSTS is sent); false keeps plain HTTP (the paper's tests).",
  },
  lbAdminAuth: {
    type: "boolean",
    default: true,
    description: "HTTP basic auth on /admin at the LBs (401 without it, ~10 tries a minute).",
  },
  lbAdminUser: {
    type: "string",
    default: "admin",
    description: "User name of the /admin basic auth.",
  },
  lbAdminPassword: {
    type: "string",
    secret: true,
    description:
      "Password of the /admin basic auth; unset = a generated one (secret output adminPassword).",
  },
  lbPostRatePerSecond: {
    type: "integer",
    default: 50,
    description: "POSTs per second per client address at the LBs (429 above); 0 = no limit.",
  },
  lbPostBurst: {
    type: "integer",
    default: 100,
    description: "POSTs a client may send at once above lbPostRatePerSecond (burst, nodelay).",
  },
  lbMaxBodyBytes: {
    type: "integer",
    default: 32768,
    description: "Largest request body at the LBs (413 above); 0 = nginx's 1 MiB.",
  },
  containerFirewall: {
    type: "boolean",
    default: true,
    description:
      "nftables inside every container: input dropped except what exposure.ts allows the node.",
  },
  operatorCidr: {
    type: "string",
    default: "",
    description:
      "IPv4 CIDR allowed to HAProxy stats, Prometheus, Alertmanager, Grafana; empty = networkCidr.",
  },
  appReplicas: {
    type: "integer",
    default: 2,
    description: "Number of Node.js app nodes (webserver1..N).",
  },
  appPort: { type: "integer", default: 3000, description: "HTTP port of the app nodes." },
  appLogLevel: {
    type: "string",
    default: "info",
    description: "App log level: trace, debug, info, warn, error or fatal.",
  },
  appPgPoolMax: { type: "integer", default: 10, description: "PostgreSQL pool size per app node." },
  appKafkaSessionTimeoutMs: {
    type: "integer",
    default: 6000,
    description: "Kafka consumer session.timeout.ms of the app.",
  },
  appKafkaHeartbeatIntervalMs: {
    type: "integer",
    default: 1000,
    description: "Kafka consumer heartbeat.interval.ms of the app.",
  },
  appKafkaPublishDeadlineMs: {
    type: "integer",
    default: 12000,
    description:
      "Ms a POST waits for the Kafka ack, then 503; Nginx's proxy_read_timeout is 2 s longer.",
  },
  appKafkaConnectTimeoutMs: {
    type: "integer",
    default: 500,
    description:
      "TCP connect timeout of the app's Kafka clients (a cut-off broker does not refuse); one publish attempt waits at most this plus appKafkaRequestTimeoutMs.",
  },
  appKafkaRequestTimeoutMs: {
    type: "integer",
    default: 1000,
    description:
      "Ms the app waits for a broker's answer before it retries against the others (silent broker).",
  },
  pgDatabase: { type: "string", default: "messages", description: "Application database name." },
  pgAppUser: { type: "string", default: "app", description: "PostgreSQL role of the app." },
  pgReplicationUser: {
    type: "string",
    default: "replicator",
    description: "PostgreSQL role used by the standby to stream WAL.",
  },
  pgReplicationSlot: {
    type: "string",
    default: "standby1",
    description: "Physical replication slot of the standby on the primary.",
  },
  pgMaxSlotWalKeepSize: {
    type: "string",
    default: "1GB",
    description: "max_slot_wal_keep_size: WAL a lagging standby may hold back on the primary.",
  },
  pgSharedBuffersMb: { type: "integer", default: 256, description: "shared_buffers in MiB." },
  pgBackupEnabled: {
    type: "boolean",
    default: true,
    description: "pgBackRest backups and WAL archive to a repository on pgBackupRepoNode.",
  },
  pgBackupRepoNode: {
    type: "string",
    default: "monitor",
    description: "Node that holds the backup repository (any node but the PostgreSQL pair).",
  },
  pgBackupRepoPath: {
    type: "string",
    default: "/var/lib/pgbackrest",
    description: "Directory of the repository on pgBackupRepoNode.",
  },
  pgBackupFullSchedule: {
    type: "string",
    default: "*-*-* 01:00:00",
    description: "systemd OnCalendar of the full backup.",
  },
  pgBackupIncrSchedule: {
    type: "string",
    default: "hourly",
    description: "systemd OnCalendar of the incremental backup.",
  },
  pgBackupRetentionFull: {
    type: "integer",
    default: 2,
    description: "Full backups kept (older ones and their WAL expire).",
  },
  pgBackupMaxAgeHours: {
    type: "integer",
    default: 3,
    description: "Alert PgBackupStale when the newest successful backup is older.",
  },
  pgArchiveTimeoutSeconds: {
    type: "integer",
    default: 60,
    description: "archive_timeout: bounds how long a commit waits to reach the WAL archive.",
  },
  pgFailover: {
    type: "string",
    default: "auto",
    description:
      "PostgreSQL failover: auto (Patroni + etcd elect and promote within seconds) or manual (the paper's: promote by hand).",
  },
  pgSynchronous: {
    type: "boolean",
    default: false,
    description:
      "pgFailover auto: Patroni synchronous_mode (a commit waits for the replica; strict off).",
  },
  patroniTtlSeconds: {
    type: "integer",
    default: 5,
    description:
      "pgFailover auto: Patroni ttl, the most a lost primary keeps the leader lock (loop_wait + 2 x retry_timeout <= ttl).",
  },
  patroniLoopWaitSeconds: {
    type: "integer",
    default: 1,
    description: "pgFailover auto: Patroni loop_wait, seconds between two HA cycles.",
  },
  patroniRetryTimeoutSeconds: {
    type: "integer",
    default: 2,
    description:
      "pgFailover auto: Patroni retry_timeout; an etcd or PostgreSQL outage shorter than this demotes no primary.",
  },
  haproxyCheckIntervalMs: {
    type: "integer",
    default: 500,
    description: "pgFailover auto: ms between HAProxy's checks of Patroni's /primary and /replica.",
  },
  haproxyCheckFall: {
    type: "integer",
    default: 2,
    description: "pgFailover auto: failed HAProxy checks in a row before a PG node is DOWN.",
  },
  haproxyCheckRise: {
    type: "integer",
    default: 1,
    description: "pgFailover auto: passed HAProxy checks in a row before a PG node is UP.",
  },
  kafkaBrokers: { type: "integer", default: 2, description: "Number of Kafka brokers (paper: 2)." },
  kafkaControllerVoters: {
    type: "integer",
    default: 3,
    description:
      "KRaft controller voters (odd, >= 3): brokers double as voters, extra nodes fill up.",
  },
  kafkaTopic: { type: "string", default: "messages", description: "Topic the app produces to." },
  kafkaPartitions: {
    type: "integer",
    default: 1,
    description: "Partitions of the topic (paper: 1, total order).",
  },
  kafkaReplicationFactor: {
    type: "integer",
    default: 2,
    description: "Replication factor of the topic (<= kafkaBrokers).",
  },
  kafkaMinInsyncReplicas: {
    type: "integer",
    default: 1,
    description: "min.insync.replicas (<= RF; RF - 1 keeps writes going with one broker down).",
  },
  kafkaHeapMb: { type: "integer", default: 512, description: "JVM heap of each Kafka node, MiB." },
  kafkaGroupMinSessionTimeoutMs: {
    type: "integer",
    default: 6000,
    description: "Broker group.min.session.timeout.ms.",
  },
  kafkaBrokerSessionTimeoutMs: {
    type: "integer",
    default: 600,
    description: "broker.session.timeout.ms: how fast the controller fences a dead broker.",
  },
  kafkaBrokerHeartbeatIntervalMs: {
    type: "integer",
    default: 100,
    description: "broker.heartbeat.interval.ms (below kafkaBrokerSessionTimeoutMs).",
  },
  kafkaOffsetsTopicPartitions: {
    type: "integer",
    default: 1,
    description:
      "Partitions of __consumer_offsets (set when it is created): all move on a broker fault.",
  },
  kafkaReplicaLagTimeMaxMs: {
    type: "integer",
    default: 3000,
    description:
      "replica.lag.time.max.ms: a follower silent this long stops holding back acks=all writes.",
  },
  kafkaQuorumFetchTimeoutMs: {
    type: "integer",
    default: 600,
    description:
      "controller.quorum.fetch.timeout.ms: silence before the voters elect a new controller.",
  },
  kafkaQuorumElectionTimeoutMs: {
    type: "integer",
    default: 500,
    description: "controller.quorum.election.timeout.ms (and the election backoff cap).",
  },
  grafanaEnabled: {
    type: "boolean",
    default: true,
    description: "Install Grafana on the monitor node (needs the grafana artifact).",
  },
  kafkaExporterEnabled: {
    type: "boolean",
    default: true,
    description: "Install kafka_exporter (consumer-group lag) on the monitor node.",
  },
  prometheusRetention: {
    type: "string",
    default: "15d",
    description: "Prometheus TSDB retention time.",
  },
  scrapeIntervalSeconds: {
    type: "integer",
    default: 15,
    description: "Prometheus scrape interval in seconds.",
  },
  aptSources: {
    type: "string",
    default: "",
    description:
      "sources.list text replacing the containers' apt sources (local mirror); empty keeps Debian's.",
  },
} as const satisfies Record<string, ScalarSetting>;

export type ScalarKey = keyof typeof SCALAR_SETTINGS;

/** Object-valued keys, read with getObject and validated field by field. */
export const OBJECT_SETTINGS = {
  nodes: "Per-node overrides: { <name>: { vmid, ip, cores, memoryMb, diskGb, proxmoxNode } }.",
  proxmoxHosts:
    "Proxmox hosts: { <node name>: { sshHost, sshPort, sshUser, sshPrivateKey } }; empty = one host from proxmoxNode and proxmoxSsh*.",
  artifacts:
    "Artifact sources: { <kafka|jmxAgent|kafkaExporter|node|app|grafana>: { url, sha256|sha512 } | { localPath } }.",
  pgParameters:
    "Extra PostgreSQL parameters: { <name>: <value> }; reloaded if PostgreSQL allows, else restarted replica first.",
} as const;

export type ObjectKey = keyof typeof OBJECT_SETTINGS;

/** Keys of the proxmoxve provider namespace the program reads. */
export const PROVIDER_KEYS: readonly string[] = ["proxmoxve:endpoint", "proxmoxve:apiToken"];

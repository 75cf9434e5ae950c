/**
 * Pure renderers for a KRaft Kafka node: server.properties, the log4j2 config, the systemd unit
 * and the StorageTool / TopicCommand argument lists. The same functions configure the Pulumi
 * program's KafkaCluster and the app's integration-test broker, so both run one configuration.
 */
import { CONTROLLER_ONLY_VOTER_FETCH_TIMEOUT_EXTRA_MS } from "../config/kafkaTimings";
import { renderRestartLines, renderStartLimitLines } from "./restartPolicy";

export type KafkaRole = "broker" | "controller";

export interface KafkaNodeSpec {
  nodeId: number;
  /** Address the node listens on and advertises (an IP or a resolvable name). */
  host: string;
  roles: KafkaRole[];
}

export interface KafkaClusterSpec {
  /** Kafka's 22-character base64url cluster id (see toKafkaClusterId). */
  clusterId: string;
  nodes: KafkaNodeSpec[];
  numPartitions: number;
  /**
   * Partitions of __consumer_offsets (Kafka default 50; read when the topic is first created). Each
   * is led by a broker and moves with it: a broker fault moves every one of them along with the
   * app's partition, and the new leader answers NOT_LEADER until it has taken all of them over.
   */
  offsetsTopicPartitions?: number;
  defaultReplicationFactor: number;
  minInsyncReplicas: number;
  /** log.dirs and KRaft metadata directory. */
  dataDir: string;
  brokerPort?: number;
  controllerPort?: number;
  /** Broker default 3000 ms; 0 lets a test group form at once. */
  groupInitialRebalanceDelayMs?: number;
  /**
   * Lower bound a classic-protocol consumer may ask for as session.timeout.ms (broker default
   * 6000). Lowering it lets the app notice a lost member sooner.
   */
  groupMinSessionTimeoutMs?: number;
  /**
   * How long the controller waits for a silent broker before fencing it and moving its partition
   * leadership (broker default 9000); with it, the heartbeat interval (default 2000). Together
   * they bound how long a killed broker stalls producers and the consumer group.
   */
  brokerSessionTimeoutMs?: number;
  brokerHeartbeatIntervalMs?: number;
  /**
   * replica.lag.time.max.ms (Kafka default 30000). A leader waits with an acks=all write for every
   * follower that fetched up to its end within this time, in the ISR or not: a follower that dies
   * (or returns after a partition and is not yet back in the ISR) holds writes back up to this long
   * unless the controller fences it first.
   */
  replicaLagTimeMaxMs?: number;
  /**
   * controller.quorum.fetch.timeout.ms (Kafka default 2000): how long the other voters wait for a
   * silent active controller before they elect a new one. Only then can the silent broker be
   * fenced, so when the active controller sits on the lost broker, the stall is this + the
   * election + brokerSessionTimeoutMs. Controller-only voters wait
   * CONTROLLER_ONLY_VOTER_FETCH_TIMEOUT_EXTRA_MS longer (see there).
   */
  controllerQuorumFetchTimeoutMs?: number;
  /**
   * controller.quorum.election.timeout.ms (Kafka default 1000); the election backoff cap
   * (controller.quorum.election.backoff.max.ms, default 1000) follows it.
   */
  controllerQuorumElectionTimeoutMs?: number;
  /** Extra properties appended last (they win over the rendered ones). */
  extraProperties?: Record<string, string | number | boolean>;
}

export const KAFKA_BROKER_PORT = 9092;
export const KAFKA_CONTROLLER_PORT = 9093;
export const KAFKA_HOME = "/opt/kafka";
export const KAFKA_LIBS_DIR = `${KAFKA_HOME}/libs`;
export const KAFKA_CONFIG_DIR = "/etc/kafka";
export const KAFKA_SERVER_PROPERTIES = `${KAFKA_CONFIG_DIR}/server.properties`;
export const KAFKA_LOG4J2_CONFIG = `${KAFKA_CONFIG_DIR}/log4j2.properties`;

const CLUSTER_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const HOST_PATTERN = /^[A-Za-z0-9.:-]+$/;

function fail(message: string): never {
  throw new Error(`kafka: ${message}`);
}

function requirePositiveInt(name: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) {
    fail(`${name} must be an integer >= ${min} (got ${String(value)})`);
  }
}

function requirePort(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    fail(`${name} must be a TCP port 1-65535 (got ${String(value)})`);
  }
}

/** Throws one Error naming the first bad value of the cluster spec. */
export function validateKafkaCluster(cluster: KafkaClusterSpec): void {
  if (!CLUSTER_ID_PATTERN.test(cluster.clusterId)) {
    fail(`clusterId must be 22 base64url characters (got "${cluster.clusterId}")`);
  }
  if (cluster.nodes.length === 0) fail("nodes must not be empty");
  const ids = new Set<number>();
  for (const node of cluster.nodes) {
    requirePositiveInt(`nodes[].nodeId`, node.nodeId, 0);
    if (ids.has(node.nodeId)) fail(`duplicate nodeId ${node.nodeId}`);
    ids.add(node.nodeId);
    if (!HOST_PATTERN.test(node.host))
      fail(`node ${node.nodeId} host is invalid (got "${node.host}")`);
    if (node.roles.length === 0) fail(`node ${node.nodeId} has no roles`);
    for (const role of node.roles) {
      if (role !== "broker" && role !== "controller") {
        fail(`node ${node.nodeId} has unknown role "${String(role)}"`);
      }
    }
  }
  const brokers = brokerNodes(cluster).length;
  if (controllerNodes(cluster).length === 0) fail("at least one node needs the controller role");
  if (brokers === 0) fail("at least one node needs the broker role");
  requirePositiveInt("numPartitions", cluster.numPartitions);
  if (cluster.offsetsTopicPartitions !== undefined) {
    requirePositiveInt("offsetsTopicPartitions", cluster.offsetsTopicPartitions);
  }
  requirePositiveInt("defaultReplicationFactor", cluster.defaultReplicationFactor);
  requirePositiveInt("minInsyncReplicas", cluster.minInsyncReplicas);
  if (cluster.defaultReplicationFactor > brokers) {
    fail(
      `defaultReplicationFactor ${cluster.defaultReplicationFactor} exceeds the ${brokers} broker(s)`,
    );
  }
  if (cluster.minInsyncReplicas > cluster.defaultReplicationFactor) {
    fail(
      `minInsyncReplicas ${cluster.minInsyncReplicas} exceeds defaultReplicationFactor ${cluster.defaultReplicationFactor}`,
    );
  }
  if (!cluster.dataDir.startsWith("/")) fail(`dataDir must be absolute (got "${cluster.dataDir}")`);
  requirePort("brokerPort", cluster.brokerPort ?? KAFKA_BROKER_PORT);
  requirePort("controllerPort", cluster.controllerPort ?? KAFKA_CONTROLLER_PORT);
  if (cluster.groupMinSessionTimeoutMs !== undefined) {
    requirePositiveInt("groupMinSessionTimeoutMs", cluster.groupMinSessionTimeoutMs);
  }
  if (cluster.groupInitialRebalanceDelayMs !== undefined) {
    requirePositiveInt("groupInitialRebalanceDelayMs", cluster.groupInitialRebalanceDelayMs, 0);
  }
  const session = cluster.brokerSessionTimeoutMs;
  const heartbeat = cluster.brokerHeartbeatIntervalMs;
  if (session !== undefined) requirePositiveInt("brokerSessionTimeoutMs", session);
  if (heartbeat !== undefined) requirePositiveInt("brokerHeartbeatIntervalMs", heartbeat);
  for (const [name, value] of [
    ["replicaLagTimeMaxMs", cluster.replicaLagTimeMaxMs],
    ["controllerQuorumFetchTimeoutMs", cluster.controllerQuorumFetchTimeoutMs],
    ["controllerQuorumElectionTimeoutMs", cluster.controllerQuorumElectionTimeoutMs],
  ] as const) {
    if (value !== undefined) requirePositiveInt(name, value);
  }
  if ((session ?? 9000) <= (heartbeat ?? 2000)) {
    fail(
      `brokerHeartbeatIntervalMs ${heartbeat ?? 2000} must be below brokerSessionTimeoutMs ${session ?? 9000}`,
    );
  }
}

export function brokerNodes(cluster: KafkaClusterSpec): KafkaNodeSpec[] {
  return cluster.nodes.filter((n) => n.roles.includes("broker"));
}

export function controllerNodes(cluster: KafkaClusterSpec): KafkaNodeSpec[] {
  return cluster.nodes.filter((n) => n.roles.includes("controller"));
}

/** `host:port` of every broker, comma separated: the clients' bootstrap list. */
export function kafkaBootstrapServers(cluster: KafkaClusterSpec): string {
  const port = cluster.brokerPort ?? KAFKA_BROKER_PORT;
  return brokerNodes(cluster)
    .map((n) => `${n.host}:${port}`)
    .join(",");
}

/** `id@host:port` of every controller: the static KRaft voter set. */
export function kafkaQuorumVoters(cluster: KafkaClusterSpec): string {
  const port = cluster.controllerPort ?? KAFKA_CONTROLLER_PORT;
  return controllerNodes(cluster)
    .map((n) => `${n.nodeId}@${n.host}:${port}`)
    .join(",");
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** server.properties of one node of the cluster. */
export function renderServerProperties(cluster: KafkaClusterSpec, nodeId: number): string {
  validateKafkaCluster(cluster);
  const node = cluster.nodes.find((n) => n.nodeId === nodeId);
  if (!node) fail(`nodeId ${nodeId} is not in the cluster`);
  const isBroker = node.roles.includes("broker");
  const isController = node.roles.includes("controller");
  const brokerPort = cluster.brokerPort ?? KAFKA_BROKER_PORT;
  const controllerPort = cluster.controllerPort ?? KAFKA_CONTROLLER_PORT;
  const host = formatHost(node.host);
  const brokers = brokerNodes(cluster).length;
  // Internal topics cannot have more replicas than there are brokers.
  const internalRf = Math.min(3, brokers, cluster.defaultReplicationFactor);
  const internalMinIsr = Math.min(cluster.minInsyncReplicas, internalRf);

  const listeners: string[] = [];
  if (isBroker) listeners.push(`PLAINTEXT://${host}:${brokerPort}`);
  if (isController) listeners.push(`CONTROLLER://${host}:${controllerPort}`);

  const props: [string, string | number | boolean][] = [
    ["process.roles", node.roles.slice().sort().join(",")],
    ["node.id", node.nodeId],
    ["controller.quorum.voters", kafkaQuorumVoters(cluster)],
    ["controller.listener.names", "CONTROLLER"],
    ["listeners", listeners.join(",")],
    ["listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"],
  ];
  if (isBroker) {
    props.push(
      ["advertised.listeners", `PLAINTEXT://${host}:${brokerPort}`],
      ["inter.broker.listener.name", "PLAINTEXT"],
    );
  }
  props.push(
    ["log.dirs", cluster.dataDir],
    ["num.partitions", cluster.numPartitions],
    ["default.replication.factor", cluster.defaultReplicationFactor],
    ["min.insync.replicas", cluster.minInsyncReplicas],
    ["auto.create.topics.enable", false],
    ["unclean.leader.election.enable", false],
    ["offsets.topic.replication.factor", internalRf],
    ["transaction.state.log.replication.factor", internalRf],
    ["transaction.state.log.min.isr", internalMinIsr],
    ["share.coordinator.state.topic.replication.factor", internalRf],
    ["share.coordinator.state.topic.min.isr", internalMinIsr],
    ["log.retention.hours", 168],
    ["log.segment.bytes", 1073741824],
  );
  if (cluster.groupInitialRebalanceDelayMs !== undefined) {
    props.push(["group.initial.rebalance.delay.ms", cluster.groupInitialRebalanceDelayMs]);
  }
  if (cluster.groupMinSessionTimeoutMs !== undefined) {
    props.push(["group.min.session.timeout.ms", cluster.groupMinSessionTimeoutMs]);
  }
  if (cluster.brokerSessionTimeoutMs !== undefined) {
    props.push(["broker.session.timeout.ms", cluster.brokerSessionTimeoutMs]);
  }
  if (cluster.brokerHeartbeatIntervalMs !== undefined) {
    props.push(["broker.heartbeat.interval.ms", cluster.brokerHeartbeatIntervalMs]);
  }
  if (cluster.offsetsTopicPartitions !== undefined) {
    props.push(["offsets.topic.num.partitions", cluster.offsetsTopicPartitions]);
  }
  if (cluster.replicaLagTimeMaxMs !== undefined) {
    props.push(["replica.lag.time.max.ms", cluster.replicaLagTimeMaxMs]);
  }
  if (isController && cluster.controllerQuorumFetchTimeoutMs !== undefined) {
    const extra = isBroker ? 0 : CONTROLLER_ONLY_VOTER_FETCH_TIMEOUT_EXTRA_MS;
    props.push([
      "controller.quorum.fetch.timeout.ms",
      cluster.controllerQuorumFetchTimeoutMs + extra,
    ]);
  }
  if (isController && cluster.controllerQuorumElectionTimeoutMs !== undefined) {
    props.push(
      ["controller.quorum.election.timeout.ms", cluster.controllerQuorumElectionTimeoutMs],
      ["controller.quorum.election.backoff.max.ms", cluster.controllerQuorumElectionTimeoutMs],
    );
  }
  for (const [key, value] of Object.entries(cluster.extraProperties ?? {})) {
    if (!/^[a-z0-9._-]+$/.test(key)) fail(`extraProperties key "${key}" is not a property name`);
    props.push([key, value]);
  }

  const header = `# Kafka KRaft node ${node.nodeId} (${node.roles.join("+")}), cluster ${cluster.clusterId}\n`;
  return header + props.map(([k, v]) => `${k}=${String(v)}`).join("\n") + "\n";
}

/**
 * log4j2 properties: everything to stdout, which systemd hands to the journal. The root level can
 * be overridden per process with -Dkafka.log.level (the CLI tools use WARN).
 */
export function renderLog4j2(opts: { level?: "DEBUG" | "INFO" | "WARN" | "ERROR" } = {}): string {
  const level = `\${sys:kafka.log.level:-${opts.level ?? "INFO"}}`;
  return [
    "status = warn",
    "name = kafka",
    "appender.stdout.type = Console",
    "appender.stdout.name = STDOUT",
    "appender.stdout.layout.type = PatternLayout",
    "appender.stdout.layout.pattern = [%d] %p %m (%c)%n",
    `rootLogger.level = ${level}`,
    "rootLogger.appenderRef.stdout.ref = STDOUT",
    // The request log and the state-change log are very chatty at INFO.
    "logger.request.name = kafka.request.logger",
    "logger.request.level = WARN",
    "logger.controller.name = org.apache.kafka.controller",
    "logger.controller.level = INFO",
    "logger.statechange.name = state.change.logger",
    "logger.statechange.level = WARN",
    "",
  ].join("\n");
}

export interface KafkaJvmOptions {
  heapMb: number;
  javaBin?: string;
  libsDir?: string;
  configPath?: string;
  log4jConfigPath?: string;
  /** Path of jmx_prometheus_javaagent.jar; with it, jmxPort and jmxConfigPath are required. */
  jmxAgentJar?: string;
  jmxPort?: number;
  jmxConfigPath?: string;
}

/** The java argument list that runs one Kafka node (no shell scripts of the tarball needed). */
export function kafkaJavaArgs(opts: KafkaJvmOptions): string[] {
  requirePositiveInt("heapMb", opts.heapMb, 128);
  const args = [
    opts.javaBin ?? "/usr/bin/java",
    `-Xms${opts.heapMb}m`,
    `-Xmx${opts.heapMb}m`,
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${opts.log4jConfigPath ?? KAFKA_LOG4J2_CONFIG}`,
  ];
  if (opts.jmxAgentJar !== undefined) {
    if (opts.jmxPort === undefined || opts.jmxConfigPath === undefined) {
      fail("jmxAgentJar needs jmxPort and jmxConfigPath");
    }
    requirePort("jmxPort", opts.jmxPort);
    args.push(`-javaagent:${opts.jmxAgentJar}=${opts.jmxPort}:${opts.jmxConfigPath}`);
  }
  args.push(
    "-cp",
    `${opts.libsDir ?? KAFKA_LIBS_DIR}/*`,
    "kafka.Kafka",
    opts.configPath ?? KAFKA_SERVER_PROPERTIES,
  );
  return args;
}

export interface KafkaUnitOptions extends KafkaJvmOptions {
  user?: string;
  group?: string;
}

/** Quote one argument for a systemd ExecStart= line (systemd does no globbing). */
function systemdQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg.replace(/%/g, "%%");
  return `'${arg.replace(/%/g, "%%").replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** systemd unit `kafka.service`. */
export function renderKafkaUnit(opts: KafkaUnitOptions): string {
  const execStart = kafkaJavaArgs(opts).map(systemdQuote).join(" ");
  const user = opts.user ?? "kafka";
  return `[Unit]
Description=Apache Kafka (KRaft)
Documentation=https://kafka.apache.org/documentation/
Wants=network-online.target
After=network-online.target
${renderStartLimitLines()}

[Service]
Type=simple
User=${user}
Group=${opts.group ?? user}
ExecStart=${execStart}
${renderRestartLines()}
# The JVM exits with 143 after a clean SIGTERM shutdown.
SuccessExitStatus=143
TimeoutStopSec=120
LimitNOFILE=100000

[Install]
WantedBy=multi-user.target
`;
}

export interface KafkaToolOptions {
  javaBin?: string;
  libsDir?: string;
  log4jConfigPath?: string;
}

function toolPrefix(opts: KafkaToolOptions, mainClass: string): string[] {
  return [
    opts.javaBin ?? "/usr/bin/java",
    "-Xmx256m",
    "-Dkafka.log.level=WARN",
    `-Dlog4j2.configurationFile=${opts.log4jConfigPath ?? KAFKA_LOG4J2_CONFIG}`,
    "-cp",
    `${opts.libsDir ?? KAFKA_LIBS_DIR}/*`,
    mainClass,
  ];
}

/** StorageTool format; `--ignore-formatted` makes it a no-op on an already formatted node. */
export function kafkaStorageFormatCommand(
  opts: KafkaToolOptions & { clusterId: string; configPath?: string },
): string[] {
  if (!CLUSTER_ID_PATTERN.test(opts.clusterId)) {
    fail(`clusterId must be 22 base64url characters (got "${opts.clusterId}")`);
  }
  return [
    ...toolPrefix(opts, "kafka.tools.StorageTool"),
    "format",
    // One token: an id may start with "-" (base64url), which the tool would read as an option.
    `--cluster-id=${opts.clusterId}`,
    "--config",
    opts.configPath ?? KAFKA_SERVER_PROPERTIES,
    "--ignore-formatted",
  ];
}

export interface KafkaTopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs?: Record<string, string | number>;
}

/** TopicCommand --create --if-not-exists: safe to run on every deploy. */
export function kafkaTopicCreateCommand(
  opts: KafkaToolOptions & { bootstrapServers: string; topic: KafkaTopicSpec },
): string[] {
  const { topic } = opts;
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic.name))
    fail(`topic name is invalid (got "${topic.name}")`);
  requirePositiveInt("topic.partitions", topic.partitions);
  requirePositiveInt("topic.replicationFactor", topic.replicationFactor);
  if (opts.bootstrapServers.trim() === "") fail("bootstrapServers must not be empty");
  const configArgs = Object.entries(topic.configs ?? {}).flatMap(([k, v]) => [
    "--config",
    `${k}=${String(v)}`,
  ]);
  return [
    ...toolPrefix(opts, "org.apache.kafka.tools.TopicCommand"),
    "--bootstrap-server",
    opts.bootstrapServers,
    "--create",
    "--if-not-exists",
    "--topic",
    topic.name,
    "--partitions",
    String(topic.partitions),
    "--replication-factor",
    String(topic.replicationFactor),
    ...configArgs,
  ];
}

/** TopicCommand --describe, for checks and drills. */
export function kafkaTopicDescribeCommand(
  opts: KafkaToolOptions & { bootstrapServers: string; topic: string },
): string[] {
  return [
    ...toolPrefix(opts, "org.apache.kafka.tools.TopicCommand"),
    "--bootstrap-server",
    opts.bootstrapServers,
    "--describe",
    "--topic",
    opts.topic,
  ];
}

/** POSIX shell form of an argument list (single quotes where needed). */
export function shellJoin(argv: readonly string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}

/** A UUID (any case, with or without dashes) -> Kafka's 22-character base64url cluster id. */
export function toKafkaClusterId(uuid: string): string {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) fail(`not a UUID (got "${uuid}")`);
  return Buffer.from(hex, "hex").toString("base64url");
}

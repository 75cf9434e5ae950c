/**
 * KRaft Kafka on loopback, configured and started with the project's own renderers
 * (components/render/kafka.ts) from the jars scripts/artifacts/fetch-kafka.sh resolved.
 * One node for the pipeline tests; the paper's layout (two brokers + a controller-only third
 * voter, each on its own 127.0.0.x address) for the broker failover test.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type KafkaClusterSpec,
  type KafkaNodeSpec,
  kafkaBootstrapServers,
  kafkaJavaArgs,
  kafkaStorageFormatCommand,
  kafkaTopicCreateCommand,
  kafkaTopicDescribeCommand,
  renderLog4j2,
  renderServerProperties,
  toKafkaClusterId,
} from "../../../components/render/kafka";

export interface KafkaNode {
  nodeId: number;
  host: string;
  isBroker: boolean;
  /** SIGKILL: the node dies without a clean shutdown. */
  kill(): Promise<void>;
  /**
   * SIGSTOP: the model of a network partition on loopback. Connections stay open and nothing
   * answers (unlike a kill, nothing is reset). Always undo with resume().
   */
  pause(): void;
  /** SIGCONT after pause(); a no-op when the node is not paused or not running. */
  resume(): void;
  start(): Promise<void>;
}

export interface KafkaServer {
  bootstrap: string;
  nodes: KafkaNode[];
  createTopic(name: string, partitions: number, replicationFactor?: number): void;
  /** Node id of the partition's leader, from TopicCommand --describe. */
  leaderOf(topic: string, partition: number): number;
  /** Node ids of the partition's in-sync replicas, from TopicCommand --describe. */
  isrOf(topic: string, partition: number): number[];
  /** Shortcuts for a one-node cluster. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The repository root: the nearest parent holding scripts/artifacts/fetch-kafka.sh. */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, "scripts/artifacts/fetch-kafka.sh"))) return dir;
    dir = resolve(dir, "..");
  }
  throw new Error("repository root not found above " + __dirname);
}

export function kafkaLibsDir(): string {
  const libs = process.env.KAFKA_LIBS_DIR ?? join(repoRoot(), ".cache/artifacts/kafka/kafka/libs");
  if (!existsSync(libs)) {
    throw new Error(`Kafka jars missing in ${libs}: run scripts/artifacts/fetch-kafka.sh`);
  }
  return libs;
}

export function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolvePromise, reject) => {
    const attempt = (): void => {
      const socket = connect({ host, port });
      socket.once("connect", () => {
        socket.destroy();
        resolvePromise();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline)
          reject(new Error(`${host}:${port} not open after ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** A port that is free on every one of the given loopback addresses. */
async function portFreeOn(hosts: string[]): Promise<number> {
  const tryListen = (host: string, port: number): Promise<number> =>
    new Promise((res, rej) => {
      const server = createServer();
      server.once("error", rej);
      server.listen(port, host, () => {
        const address = server.address();
        const bound = typeof address === "object" && address ? address.port : 0;
        server.close(() => res(bound));
      });
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const [first, ...rest] = hosts;
    const port = await tryListen(first as string, 0);
    const ok = await Promise.all(
      rest.map((h) =>
        tryListen(h, port).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (ok.every(Boolean)) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(", ")}`);
}

export interface ClusterTuning {
  replicationFactor: number;
  minInsyncReplicas: number;
  brokerSessionTimeoutMs?: number;
  brokerHeartbeatIntervalMs?: number;
  groupMinSessionTimeoutMs?: number;
  replicaLagTimeMaxMs?: number;
  controllerQuorumFetchTimeoutMs?: number;
  controllerQuorumElectionTimeoutMs?: number;
  offsetsTopicPartitions?: number;
  extraProperties?: KafkaClusterSpec["extraProperties"];
}

export async function startKafkaCluster(
  layout: { host: string; roles: KafkaNodeSpec["roles"] }[],
  tuning: ClusterTuning,
): Promise<KafkaServer> {
  const dir = mkdtempSync(join(tmpdir(), "pve-ha-app-kafka-"));
  const libsDir = kafkaLibsDir();
  const log4jConfigPath = join(dir, "log4j2.properties");
  writeFileSync(log4jConfigPath, renderLog4j2({ level: "WARN" }));
  const hosts = layout.map((n) => n.host);
  const cluster: KafkaClusterSpec = {
    clusterId: toKafkaClusterId(randomUUID()),
    nodes: layout.map((n, i) => ({ nodeId: i + 1, host: n.host, roles: n.roles })),
    numPartitions: 1,
    defaultReplicationFactor: tuning.replicationFactor,
    minInsyncReplicas: tuning.minInsyncReplicas,
    dataDir: join(dir, "data"), // each node gets its own below
    brokerPort: await portFreeOn(hosts),
    controllerPort: await portFreeOn(hosts),
    groupInitialRebalanceDelayMs: 0,
    ...(tuning.brokerSessionTimeoutMs
      ? { brokerSessionTimeoutMs: tuning.brokerSessionTimeoutMs }
      : {}),
    ...(tuning.brokerHeartbeatIntervalMs
      ? { brokerHeartbeatIntervalMs: tuning.brokerHeartbeatIntervalMs }
      : {}),
    ...(tuning.groupMinSessionTimeoutMs
      ? { groupMinSessionTimeoutMs: tuning.groupMinSessionTimeoutMs }
      : {}),
    replicaLagTimeMaxMs: tuning.replicaLagTimeMaxMs,
    controllerQuorumFetchTimeoutMs: tuning.controllerQuorumFetchTimeoutMs,
    controllerQuorumElectionTimeoutMs: tuning.controllerQuorumElectionTimeoutMs,
    offsetsTopicPartitions: tuning.offsetsTopicPartitions,
    ...(tuning.extraProperties ? { extraProperties: tuning.extraProperties } : {}),
  };
  const tool = { javaBin: "java", libsDir, log4jConfigPath };
  const bootstrap = kafkaBootstrapServers(cluster);
  const children = new Map<number, ChildProcess>();

  const nodes: KafkaNode[] = cluster.nodes.map((spec) => {
    const nodeDir = join(dir, `node${spec.nodeId}`);
    mkdirSync(nodeDir);
    const configPath = join(nodeDir, "server.properties");
    const perNode = { ...cluster, dataDir: join(nodeDir, "data") };
    writeFileSync(configPath, renderServerProperties(perNode, spec.nodeId));
    const [formatBin, ...formatArgs] = kafkaStorageFormatCommand({
      ...tool,
      clusterId: cluster.clusterId,
      configPath,
    });
    execFileSync(formatBin as string, formatArgs, { stdio: "pipe" });
    const isBroker = spec.roles.includes("broker");
    const port = isBroker ? (cluster.brokerPort as number) : (cluster.controllerPort as number);
    return {
      nodeId: spec.nodeId,
      host: spec.host,
      isBroker,
      async start() {
        const heapMb = isBroker ? 512 : 256;
        const [javaBin, ...args] = kafkaJavaArgs({ ...tool, heapMb, configPath });
        const out = openSync(join(nodeDir, "kafka.log"), "a");
        children.set(spec.nodeId, spawn(javaBin as string, args, { stdio: ["ignore", out, out] }));
        await waitForPort(spec.host, port, 90000);
      },
      async kill() {
        await signalAndWait(spec.nodeId, "SIGKILL");
      },
      pause() {
        children.get(spec.nodeId)?.kill("SIGSTOP");
      },
      resume() {
        children.get(spec.nodeId)?.kill("SIGCONT");
      },
    };
  });

  async function signalAndWait(nodeId: number, signal: NodeJS.Signals): Promise<void> {
    const running = children.get(nodeId);
    children.delete(nodeId);
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((r) => running.once("exit", () => r()));
    running.kill(signal);
    running.kill("SIGCONT"); // a paused JVM handles no SIGTERM
    const timer = setTimeout(() => running.kill("SIGKILL"), 30000);
    await exited;
    clearTimeout(timer);
  }

  function describePartition(topic: string, partition: number): { line: string; out: string } {
    const [bin, ...args] = kafkaTopicDescribeCommand({
      ...tool,
      bootstrapServers: bootstrap,
      topic,
    });
    const out = execFileSync(bin as string, args, { stdio: "pipe", timeout: 60000 }).toString();
    const line = out.split("\n").find((l) => new RegExp(`Partition: ${partition}\\s`).test(l));
    return { line: line ?? "", out };
  }

  const only = (): KafkaNode => {
    if (nodes.length !== 1) throw new Error("kill()/start() are for a one-node cluster");
    return nodes[0] as KafkaNode;
  };

  const server: KafkaServer = {
    bootstrap,
    nodes,
    createTopic(name, partitions, replicationFactor = tuning.replicationFactor) {
      const [bin, ...args] = kafkaTopicCreateCommand({
        ...tool,
        bootstrapServers: bootstrap,
        topic: { name, partitions, replicationFactor },
      });
      execFileSync(bin as string, args, { stdio: "pipe", timeout: 90000 });
    },
    leaderOf(topic, partition) {
      const { line, out } = describePartition(topic, partition);
      const leader = /Leader: (-?\d+)/.exec(line)?.[1];
      if (leader === undefined) throw new Error(`no leader in TopicCommand output:\n${out}`);
      return Number(leader);
    },
    isrOf(topic, partition) {
      const { line, out } = describePartition(topic, partition);
      const isr = /Isr: ([\d,]*)/.exec(line)?.[1];
      if (isr === undefined) throw new Error(`no ISR in TopicCommand output:\n${out}`);
      return isr.split(",").filter(Boolean).map(Number);
    },
    kill: () => only().kill(),
    start: () => only().start(),
    async stop() {
      try {
        // The data is thrown away: no need for a controlled shutdown.
        await Promise.all(nodes.map((n) => signalAndWait(n.nodeId, "SIGKILL")));
      } finally {
        if (process.env.KEEP_TEST_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
        else process.stderr.write(`kafka logs kept in ${dir}\n`);
      }
    },
  };

  try {
    await Promise.all(nodes.map((n) => n.start()));
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw error;
  }
  return server;
}

/** One combined broker+controller on 127.0.0.1. */
export function startKafka(): Promise<KafkaServer> {
  return startKafkaCluster([{ host: "127.0.0.1", roles: ["broker", "controller"] }], {
    replicationFactor: 1,
    minInsyncReplicas: 1,
  });
}

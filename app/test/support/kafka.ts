/**
 * A single-node KRaft Kafka on loopback, configured and started with the project's own renderers
 * (components/render/kafka.ts) from the jars scripts/artifacts/fetch-kafka.sh resolved.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type KafkaClusterSpec,
  kafkaJavaArgs,
  kafkaStorageFormatCommand,
  kafkaTopicCreateCommand,
  renderLog4j2,
  renderServerProperties,
  toKafkaClusterId,
} from "../../../components/render/kafka";

export interface KafkaServer {
  bootstrap: string;
  createTopic(name: string, partitions: number): void;
  /** SIGKILL: the broker dies without a clean shutdown. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  logFile: string;
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

export function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolvePromise, reject) => {
    const attempt = (): void => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolvePromise();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} not open after ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export async function startKafka(brokerPort: number, controllerPort: number): Promise<KafkaServer> {
  const dir = mkdtempSync(join(tmpdir(), "pve-ha-app-kafka-"));
  const libsDir = kafkaLibsDir();
  const configPath = join(dir, "server.properties");
  const log4jConfigPath = join(dir, "log4j2.properties");
  const cluster: KafkaClusterSpec = {
    clusterId: toKafkaClusterId(randomUUID()),
    nodes: [{ nodeId: 1, host: "127.0.0.1", roles: ["broker", "controller"] }],
    numPartitions: 1,
    defaultReplicationFactor: 1,
    minInsyncReplicas: 1,
    dataDir: join(dir, "data"),
    brokerPort,
    controllerPort,
    groupInitialRebalanceDelayMs: 0,
  };
  writeFileSync(configPath, renderServerProperties(cluster, 1));
  writeFileSync(log4jConfigPath, renderLog4j2({ level: "WARN" }));
  const tool = { javaBin: "java", libsDir, log4jConfigPath };
  const [formatBin, ...formatArgs] = kafkaStorageFormatCommand({
    ...tool,
    clusterId: cluster.clusterId,
    configPath,
  });
  execFileSync(formatBin as string, formatArgs, { stdio: "pipe" });

  const logFile = join(dir, "kafka.log");
  let child: ChildProcess | undefined;
  const bootstrap = `127.0.0.1:${brokerPort}`;

  const server: KafkaServer = {
    bootstrap,
    logFile,
    async start() {
      const [javaBin, ...args] = kafkaJavaArgs({ ...tool, heapMb: 512, configPath });
      const out = openSync(logFile, "a");
      child = spawn(javaBin as string, args, { stdio: ["ignore", out, out] });
      await waitForPort(brokerPort, 60000);
    },
    createTopic(name: string, partitions: number) {
      const [bin, ...args] = kafkaTopicCreateCommand({
        ...tool,
        bootstrapServers: bootstrap,
        topic: { name, partitions, replicationFactor: 1 },
      });
      execFileSync(bin as string, args, { stdio: "pipe", timeout: 60000 });
    },
    async kill() {
      await signalAndWait("SIGKILL");
    },
    async stop() {
      try {
        await signalAndWait("SIGTERM");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };

  async function signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((r) => running.once("exit", () => r()));
    running.kill(signal);
    const timer = setTimeout(() => running.kill("SIGKILL"), 30000);
    await exited;
    clearTimeout(timer);
  }

  await server.start();
  return server;
}

/** PostgreSQL + Kafka + N app processes on loopback, for the integration tests and the bench. */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AppProcess, createAppProcess, waitFor } from "./app-process";
import { type ClusterTuning, type KafkaServer, startKafka, startKafkaCluster } from "./kafka";
import { type PostgresServer, startPostgres } from "./postgres";
import { leaderMoveBoundMs } from "../../../components/config/kafkaTimings";
import { SCALAR_SETTINGS as S } from "../../../components/config/schema";

export interface Stack {
  pg: PostgresServer;
  kafka: KafkaServer;
  apps: AppProcess[];
  logDir: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The paper's Kafka layout on loopback: two combined broker+controller nodes and a
 * controller-only third voter; topic replication 2 with min.insync.replicas 1; the stack's
 * default fencing and quorum timings (the contract's settings).
 */
export const PAPER_KAFKA_TUNING = {
  replicationFactor: 2,
  minInsyncReplicas: 1,
  brokerSessionTimeoutMs: S.kafkaBrokerSessionTimeoutMs.default,
  brokerHeartbeatIntervalMs: S.kafkaBrokerHeartbeatIntervalMs.default,
  replicaLagTimeMaxMs: S.kafkaReplicaLagTimeMaxMs.default,
  controllerQuorumFetchTimeoutMs: S.kafkaQuorumFetchTimeoutMs.default,
  controllerQuorumElectionTimeoutMs: S.kafkaQuorumElectionTimeoutMs.default,
  offsetsTopicPartitions: S.kafkaOffsetsTopicPartitions.default,
};

/** The app's Kafka client settings as the stack renders them by default. */
export const CONTRACT_APP_KAFKA_ENV: Record<string, string> = {
  KAFKA_CONNECT_TIMEOUT_MS: String(S.appKafkaConnectTimeoutMs.default),
  KAFKA_REQUEST_TIMEOUT_MS: String(S.appKafkaRequestTimeoutMs.default),
  KAFKA_LEADER_WAIT_MS: String(leaderMoveBoundMs(PAPER_KAFKA_TUNING)),
};
export const PAPER_KAFKA_LAYOUT = [
  { host: "127.0.0.11", roles: ["broker", "controller"] as ("broker" | "controller")[] },
  { host: "127.0.0.12", roles: ["broker", "controller"] as ("broker" | "controller")[] },
  { host: "127.0.0.13", roles: ["controller"] as ("broker" | "controller")[] },
];

export async function startStack(opts: {
  apps: number;
  appEnv?: Record<string, string>;
  kafka?: "single" | "paper";
  /** Overrides of PAPER_KAFKA_TUNING for the paper layout. */
  kafkaTuning?: Partial<ClusterTuning>;
}): Promise<Stack> {
  const logDir = mkdtempSync(join(tmpdir(), "pve-ha-app-logs-"));
  const started: { pg?: PostgresServer; kafka?: KafkaServer; apps: AppProcess[] } = { apps: [] };
  const stop = async (): Promise<void> => {
    await Promise.all(started.apps.map((a) => a.stop("SIGTERM")));
    await started.kafka?.stop();
    started.pg?.stop();
    if (process.env.KEEP_TEST_LOGS === undefined) rmSync(logDir, { recursive: true, force: true });
    else process.stderr.write(`test logs kept in ${logDir}\n`);
  };
  try {
    started.pg = await startPostgres(await freePort());
    started.kafka =
      opts.kafka === "paper"
        ? await startKafkaCluster(PAPER_KAFKA_LAYOUT, {
            ...PAPER_KAFKA_TUNING,
            ...opts.kafkaTuning,
          })
        : await startKafka();
    started.kafka.createTopic("messages", 1);
    for (let i = 1; i <= opts.apps; i++) {
      const app = createAppProcess({
        nodeName: `webserver${i}`,
        port: await freePort(),
        pg: started.pg,
        kafkaBrokers: started.kafka.bootstrap,
        logDir,
        env: opts.appEnv,
      });
      started.apps.push(app);
    }
    await Promise.all(started.apps.map((a) => a.start()));
    // Ready = database migrated and Kafka answering on every node (/readyz reports both).
    for (const app of started.apps) {
      await waitFor(
        `${app.nodeName} /readyz with database and kafka ok`,
        async () => {
          const response = await fetch(`${app.url}/readyz`);
          const body = (await response.json()) as { database?: string; kafka?: string };
          return response.ok && body.database === "ok" && body.kafka === "ok";
        },
        30000,
      );
    }
    return { pg: started.pg, kafka: started.kafka, apps: started.apps, logDir, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** Sum of one counter over the given apps' /metrics. */
export async function sumMetric(apps: AppProcess[], name: string): Promise<number> {
  let total = 0;
  for (const app of apps) {
    if (!app.running()) continue;
    const text = await (await fetch(`${app.url}/metrics`)).text();
    for (const line of text.split("\n")) {
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
        total += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
  }
  return total;
}

/** Entry point: validate the environment, wire the parts, serve, and shut down gracefully. */
import { randomUUID } from "node:crypto";
import pino from "pino";
import { ConfigError, loadConfig, type AppConfig } from "./config";
import { MessageConsumer } from "./consumer";
import {
  createPool,
  insertMessages,
  insertMessagesDurably,
  listMessages,
  migrate,
  pingDatabase,
} from "./db";
import { buildServer } from "./http/server";
import { type AppMetrics, createMetrics } from "./metrics";
import { KafkaPublisher } from "./producer";
import type { FlushResult } from "./replica-flush";
import { retry } from "./retry";

const SHUTDOWN_TIMEOUT_MS = 25000;
const MIN_NODE = [22, 22] as const;

function requireNodeVersion(): void {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    process.stderr.write(
      `pve-ha-app: Node.js >= ${MIN_NODE.join(".")} is required (running ${process.versions.node})\n`,
    );
    process.exit(1);
  }
}

function readConfig(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pve-ha-app: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

function recordFlush(metrics: AppMetrics, result: FlushResult): void {
  if (result.outcome === "no-replica") metrics.replicaFlushNoReplica.inc();
  if (result.outcome === "timeout") metrics.replicaFlushTimeouts.inc();
  if (result.outcome === "flushed" || result.outcome === "timeout") {
    metrics.replicaFlushWait.observe({ outcome: result.outcome }, result.waitedMs / 1000);
  }
}

async function main(): Promise<void> {
  requireNodeVersion();
  const config = readConfig();
  const logger = pino({ level: config.logLevel, base: { node: config.nodeName } });
  const stopping = new AbortController();

  const pool = createPool(config.pg);
  pool.on("error", (error) => logger.warn({ err: error }, "idle database connection failed"));
  const metrics = createMetrics(config.nodeName, pool);
  const publisher = new KafkaPublisher(config, logger);

  const schemaReady = retry(() => migrate(pool), {
    baseMs: 500,
    maxMs: 5000,
    signal: stopping.signal,
    onRetry: (error, attempt) =>
      logger.warn({ err: error, attempt }, "database migration failed; retrying"),
  });
  schemaReady.then(
    () => logger.info("database schema ready"),
    () => undefined,
  );

  const consumer = new MessageConsumer({
    config,
    logger,
    metrics,
    insert: (messages) =>
      config.pg.replicaFlushWaitMs === 0
        ? insertMessages(pool, messages, config.nodeName)
        : insertMessagesDurably(
            pool,
            messages,
            config.nodeName,
            { maxWaitMs: config.pg.replicaFlushWaitMs, pollMs: config.pg.replicaFlushPollMs },
            (result) => recordFlush(metrics, result),
          ),
    schemaReady,
  });

  const app = buildServer({
    config,
    logger,
    metrics,
    publisher,
    reader: { list: (page) => listMessages(pool, page), ping: () => pingDatabase(pool) },
    consumerRunning: () => consumer.isRunning(),
    newUid: randomUUID,
  });

  let shuttingDown = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "shutting down: draining requests, committing, leaving the group");
    const timer = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    stopping.abort();
    await app.close(); // stops accepting, waits for requests in flight (their produce included)
    await consumer.stop(); // the batch in hand is stored and committed, then LeaveGroup
    await publisher
      .close()
      .catch((error: unknown) => logger.warn({ err: error }, "producer close"));
    await pool.end();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  await app.listen({ port: config.port, host: config.host });
  consumer.start();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `pve-ha-app: fatal: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});

/**
 * The group consumer: reads batches, stores them (store-batch.ts), commits, and recreates the
 * Kafka consumer with backoff whenever the stream fails (a broker restart, a lost coordinator).
 * Offsets are committed manually, so a recreated consumer resumes at the last stored batch.
 */
import {
  Consumer,
  type Message,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  type MessagesStream,
  stringDeserializers,
} from "@platformatic/kafka";
import type { Logger } from "pino";
import type { AppConfig } from "./config";
import type { AppMetrics } from "./metrics";
import type { MessagePayload } from "./message";
import { AbortedError, backoffDelay, sleep, withTimeout } from "./retry";
import { type ConsumedRecord, storeBatch } from "./store-batch";
import { StreamBatcher } from "./stream-batcher";

type StringMessage = Message<string, string, string, string>;
type StringStream = MessagesStream<string, string, string, string>;

export interface ConsumerDeps {
  config: AppConfig;
  logger: Logger;
  metrics: AppMetrics;
  insert: (messages: MessagePayload[]) => Promise<Set<string>>;
  /** Resolves when the database schema is in place; the group is joined only then. */
  schemaReady: Promise<void>;
}

const MAX_BATCH = 500;
// Failing fast and recreating the consumer rediscovers a moved group coordinator sooner than
// retrying against the one that went away.
const RESTART_BACKOFF = { baseMs: 250, maxMs: 2000 };
const STORE_RETRY = { baseMs: 100, maxMs: 3000 };
const COMMIT_TIMEOUT_MS = 10000;

export class MessageConsumer {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private active: Consumer<string, string, string, string> | undefined;
  private lastBatchAt = 0;

  constructor(private readonly deps: ConsumerDeps) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** True while a consumer is a member of the group (or joining it). */
  isRunning(): boolean {
    return this.active?.isActive() ?? false;
  }

  get lastStoredAt(): number {
    return this.lastBatchAt;
  }

  /** Graceful: finish and commit the batch in hand, then leave the group. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger } = this.deps;
    try {
      await this.deps.schemaReady;
    } catch {
      return; // the server stops; nothing to consume into
    }
    for (let failures = 0; !this.abort.signal.aborted;) {
      try {
        await this.consumeOnce();
        failures = 0;
      } catch (error) {
        if (error instanceof AbortedError) break;
        failures++;
        this.deps.metrics.consumerRestarts.inc();
        const delay = backoffDelay(failures, RESTART_BACKOFF);
        logger.warn({ err: error, delayMs: delay }, "kafka consumer failed; recreating it");
        await sleep(delay, this.abort.signal).catch(() => undefined);
      }
    }
    logger.info("kafka consumer stopped");
  }

  private createConsumer(): Consumer<string, string, string, string> {
    const { config } = this.deps;
    return new Consumer<string, string, string, string>({
      clientId: config.kafka.clientId,
      bootstrapBrokers: config.kafka.brokers,
      groupId: config.kafka.groupId,
      // Static membership: a node that restarts within the session timeout keeps its partitions
      // without a rebalance; a node that is gone loses them after sessionTimeout.
      groupInstanceId: config.nodeName,
      sessionTimeout: config.kafka.sessionTimeoutMs,
      heartbeatInterval: config.kafka.heartbeatIntervalMs,
      rebalanceTimeout: config.kafka.sessionTimeoutMs,
      autocommit: false,
      deserializers: stringDeserializers,
      maxWaitTime: 500,
      connectTimeout: config.kafka.connectTimeoutMs,
      timeout: config.kafka.requestTimeoutMs,
      // A JoinGroup is answered only when the rebalance completes (up to the rebalance timeout);
      // beyond that, a silent broker fails the request and the consumer is recreated.
      requestTimeout: config.kafka.sessionTimeoutMs + config.kafka.requestTimeoutMs,
      retries: 2,
      retryDelay: 250,
    });
  }

  private async consumeOnce(): Promise<void> {
    const { config, logger, metrics } = this.deps;
    const consumer = this.createConsumer();
    this.active = consumer;
    let stream: StringStream | undefined;
    try {
      // A failed group rejoin (e.g. the coordinator's broker went silent) is emitted as 'error';
      // unhandled, it would end the process. Ending the stream recreates the consumer instead.
      consumer.on("error", (error: unknown) => {
        logger.warn({ err: error }, "kafka consumer error; recreating it");
        void stream?.close().catch(() => undefined);
      });
      consumer.on("consumer:lag", (lag) => {
        for (const [, partitions] of lag) {
          partitions.forEach((value, partition) =>
            metrics.consumerLag.set({ partition: String(partition) }, Number(value)),
          );
        }
      });
      stream = await consumer.consume({
        topics: [config.kafka.topic],
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        autocommit: false,
      });
      consumer.startLagMonitoring({ topics: [config.kafka.topic] }, 5000);
      logger.info({ memberId: consumer.memberId }, "joined the consumer group");
      const batcher = new StreamBatcher<StringMessage>(stream, MAX_BATCH);
      for (;;) {
        const batch = await batcher.next(this.abort.signal);
        if (batch === null) break;
        await this.handle(batch);
      }
      if (!this.abort.signal.aborted) throw new Error("kafka message stream ended");
    } finally {
      consumer.stopLagMonitoring();
      this.active = undefined;
      if (stream) await stream.close().catch(() => undefined);
      // Not forced: leaves the group so another node takes the partitions at once.
      await consumer
        .close()
        .catch(() => consumer.close(true))
        .catch((error: unknown) => logger.debug({ err: error }, "consumer close"));
    }
  }

  private async handle(batch: StringMessage[]): Promise<void> {
    const { config, logger, metrics } = this.deps;
    const records: ConsumedRecord[] = batch.map((m) => ({
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      value: m.value,
      // A commit can wait on a group rejoin that never completes after a broker restart; a
      // timeout turns that into an error, and the consumer is recreated.
      commit: () => withTimeout(Promise.resolve(m.commit()), COMMIT_TIMEOUT_MS, "offset commit"),
    }));
    const outcome = await storeBatch(records, {
      insert: this.deps.insert,
      retry: STORE_RETRY,
      commitAttempts: 5,
      // Not the stop signal: a batch in hand is stored and committed before shutting down.
      onInvalid: (record, errors) =>
        logger.error(
          { partition: record.partition, offset: String(record.offset), errors },
          "skipping a record that is not a valid message",
        ),
      onRetry: (stage, error, attempt) => {
        metrics.storeRetries.inc();
        logger.warn({ err: error, stage, attempt }, "store step failed; retrying");
      },
    });
    metrics.consumed.inc(outcome.consumed);
    metrics.stored.inc(outcome.stored);
    metrics.duplicates.inc(outcome.duplicates);
    metrics.invalid.inc(outcome.invalid);
    this.lastBatchAt = Date.now();
    logger.debug({ ...outcome, topic: config.kafka.topic }, "batch stored and committed");
  }
}

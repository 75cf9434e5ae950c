/** Idempotent producer with acks=all; publish() resolves only once every in-sync replica has the record. */
import { ProduceAcks, Producer, stringSerializers } from "@platformatic/kafka";
import type { Logger } from "pino";
import type { AppConfig } from "./config";
import type { MessagePayload } from "./message";
import { BrokerOrder } from "./broker-order";
import { MicroBatcher } from "./micro-batcher";
import { retry, sleep, withDeadline, withTimeout } from "./retry";

interface OutgoingRecord {
  topic: string;
  key: string;
  value: string;
}

export interface Publisher {
  publish(payload: MessagePayload): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaPublisherOptions {
  /**
   * How long one submission may wait for Kafka (while a broker restarts) before a 503. Defaults to
   * KAFKA_PUBLISH_DEADLINE_MS; the LB's proxy_read_timeout is derived from the same stack setting.
   * A hard limit: a produce request in flight to a silent broker does not extend it.
   */
  publishDeadlineMs: number;
}

/** Backoff between publish attempts: short, a new leader is usually elected within seconds. */
const PUBLISH_BACKOFF = { baseMs: 100, maxMs: 1000 };
// Below the request timeout: the broker answers REQUEST_TIMED_OUT (retriable) while the ISR is
// waited for, before the client gives up on the connection.
const PRODUCE_ACK_TIMEOUT_SHARE = 0.75;
/** Metadata poll while a suspect broker still leads a partition. */
const LEADER_POLL_MS = 200;
/** How long a broker whose connection dropped is asked for metadata last. */
const SUSPECT_BROKER_MS = 30000;

/** Client events after which a broker is suspect: a dropped connection, a failed connect. */
const BROKER_TROUBLE_EVENTS = ["client:broker:disconnect", "client:broker:failed"] as const;

type StringProducer = Producer<string, string, string, string>;

export class KafkaPublisher implements Publisher {
  private producer: StringProducer;
  private bootstrap: string[];
  private readonly brokerOrder: BrokerOrder;
  // Concurrent requests share one produce request: fewer round trips, same acks=all guarantee.
  private readonly batcher: MicroBatcher<OutgoingRecord>;

  constructor(
    private readonly config: AppConfig,
    private readonly logger: Logger,
    private readonly opts: KafkaPublisherOptions = {
      publishDeadlineMs: config.kafka.publishDeadlineMs,
    },
  ) {
    this.brokerOrder = new BrokerOrder(config.kafka.brokers, SUSPECT_BROKER_MS);
    this.bootstrap = this.brokerOrder.order();
    this.producer = this.createProducer(this.bootstrap);
    this.batcher = new MicroBatcher<OutgoingRecord>(
      async (messages) => {
        await this.producer.send({ messages });
      },
      { lingerMs: 2, maxItems: 200 },
    );
  }

  private get attemptTimeoutMs(): number {
    return this.config.kafka.requestTimeoutMs + this.config.kafka.connectTimeoutMs;
  }

  private createProducer(bootstrap: string[]): StringProducer {
    const { kafka } = this.config;
    const producer = new Producer<string, string, string, string>({
      clientId: kafka.clientId,
      bootstrapBrokers: bootstrap,
      idempotent: true,
      acks: ProduceAcks.ALL,
      serializers: stringSerializers,
      autocreateTopics: false,
      connectTimeout: kafka.connectTimeoutMs,
      // The client's own default is 30 s: a request to a silent broker would hang that long.
      requestTimeout: kafka.requestTimeoutMs,
      timeout: Math.round(kafka.requestTimeoutMs * PRODUCE_ACK_TIMEOUT_SHARE),
      // No retry inside the client: its retry refreshes metadata from the first bootstrap broker,
      // silent or not. publish() retries instead, after a refresh from a healthy broker.
      retries: 0,
    });
    const suspect = ({ broker }: { broker: { host: string; port: number } }): void =>
      this.brokerOrder.suspect(`${broker.host}:${broker.port}`);
    for (const event of BROKER_TROUBLE_EVENTS) producer.on(event, suspect);
    return producer;
  }

  /**
   * Before a retry: when a bootstrap broker dropped its connection, a new producer asks the
   * healthy brokers first (the old producer's requests in flight fail or finish; their publishes
   * retry). Before any attempt while a broker is suspect: while the metadata names a suspect
   * broker as a leader (the controller has not fenced it yet), it is refreshed again for up to one
   * request timeout instead of sending a request that would hang, so the attempt leaves as soon
   * as the new leader is known.
   */
  private async beforeAttempt(attempt: number, signal: AbortSignal): Promise<void> {
    if (attempt > 1) this.askHealthyBrokersFirst();
    else if (!this.brokerOrder.hasSuspects()) return;
    const { topic, requestTimeoutMs } = this.config.kafka;
    const until = Date.now() + requestTimeoutMs;
    for (let forceUpdate = attempt > 1; ; forceUpdate = true) {
      const metadata = await this.producer.metadata({ topics: [topic], forceUpdate });
      const leaders = (metadata.topics.get(topic)?.partitions ?? []).map((p) => {
        const broker = metadata.brokers.get(p.leader);
        return broker ? `${broker.host}:${broker.port}` : "";
      });
      const suspectLeader = leaders.some((b) => b === "" || this.brokerOrder.isSuspect(b));
      if (!suspectLeader || Date.now() >= until) return;
      await sleep(LEADER_POLL_MS, signal);
    }
  }

  private askHealthyBrokersFirst(): void {
    const order = this.brokerOrder.order();
    if (order[0] === this.bootstrap[0]) return;
    const old = this.producer;
    this.bootstrap = order;
    this.producer = this.createProducer(order);
    this.logger.warn({ bootstrap: order }, "kafka broker dropped; asking the others first");
    // Its own connections closing are no news about the brokers.
    for (const event of BROKER_TROUBLE_EVENTS) old.removeAllListeners(event);
    void old.close().catch(() => old.close(true).catch(() => undefined));
  }

  /**
   * Resolves once Kafka acknowledged the record; rejects within publishDeadlineMs otherwise. A
   * rejected publish may still be written by the request in flight: the client retries with the
   * same Idempotency-Key, and the consumer stores a message_uid once.
   */
  async publish(payload: MessagePayload): Promise<void> {
    const record = {
      topic: this.config.kafka.topic,
      key: payload.message_uid,
      value: JSON.stringify(payload),
    };
    await withDeadline(
      (signal) =>
        retry(
          async (attempt) => {
            await this.beforeAttempt(attempt, signal);
            // The client can keep reconnecting to a silent bootstrap broker without failing the
            // send: an attempt gets one request plus one connect, then the next broker is asked.
            await withTimeout(this.batcher.add(record), this.attemptTimeoutMs, "kafka produce");
          },
          {
            ...PUBLISH_BACKOFF,
            deadlineMs: this.opts.publishDeadlineMs,
            signal,
            onRetry: (error, attempt) =>
              this.logger.warn(
                { err: error, attempt, message_uid: payload.message_uid },
                "kafka produce failed; retrying",
              ),
          },
        ),
      this.opts.publishDeadlineMs,
      "kafka publish",
    );
  }

  async ping(): Promise<void> {
    await this.producer.metadata({ topics: [this.config.kafka.topic], forceUpdate: true });
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

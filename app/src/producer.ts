/**
 * Kafka producer with acks=all; publish() resolves only once every in-sync replica has the record.
 * Duplicates are the consumer's business (it stores a message_uid once), not the broker's: the
 * client's idempotence would not catch this module's own retries (each is a new send) and would
 * make every replacement producer fetch a producer id first, from a controller that may be the one
 * just lost.
 */
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

export type StringProducer = Producer<string, string, string, string>;
export type StringProducerOptions = ConstructorParameters<
  typeof Producer<string, string, string, string>
>[0];
/** Makes the Kafka client; tests pass a fake. */
export type ProducerFactory = (options: StringProducerOptions) => StringProducer;

export interface KafkaPublisherOptions {
  /**
   * How long one submission may wait for Kafka (while a broker restarts) before a 503. Defaults to
   * KAFKA_PUBLISH_DEADLINE_MS; the LB's proxy_read_timeout is derived from the same stack setting.
   * A hard limit: a produce request in flight to a silent broker does not extend it.
   */
  publishDeadlineMs: number;
  createClient?: ProducerFactory;
}

/** Backoff between publish attempts: short, a new leader is usually elected within seconds. */
const PUBLISH_BACKOFF = { baseMs: 100, maxMs: 1000 };
// Well below the request timeout: the broker answers REQUEST_TIMED_OUT (retriable) while the ISR
// is waited for, before the client gives up on the connection and the broker is suspected. A busy
// broker answers late; half the request timeout leaves it room.
const PRODUCE_ACK_TIMEOUT_SHARE = 0.5;
/** Metadata poll while a suspect broker still leads a partition. */
const LEADER_POLL_MS = 100;
/** How long a broker whose connection dropped is asked for metadata last. */
const SUSPECT_BROKER_MS = 30000;

/** Client events after which a broker is suspect: a dropped connection, a failed connect. */
const BROKER_TROUBLE_EVENTS = ["client:broker:disconnect", "client:broker:failed"] as const;

export class KafkaPublisher implements Publisher {
  private producer: StringProducer;
  private bootstrap: string[];
  private readonly brokerOrder: BrokerOrder;
  // Concurrent requests share one produce request: fewer round trips, same acks=all guarantee.
  private readonly batcher: MicroBatcher<OutgoingRecord>;
  /** Partition leaders of the topic as last read from the metadata ("" when leaderless). */
  private leaders = new Set<string>();
  private notedLeaders = "";
  /** Liveness probes of suspected leaders in flight, one per broker. */
  private readonly probes = new Map<string, Promise<void>>();
  /** Rejects the attempts in flight: the client does not fail a request whose connection dropped. */
  private readonly inFlight = new Set<(error: Error) => void>();

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
        // acks per send: without idempotence the client defaults a send to acks=1 (leader only),
        // whatever the constructor was given.
        await this.producer.send({ messages, acks: ProduceAcks.ALL });
      },
      { lingerMs: 2, maxItems: 200 },
    );
  }

  private get attemptTimeoutMs(): number {
    return this.config.kafka.requestTimeoutMs + this.config.kafka.connectTimeoutMs;
  }

  private newClient(options: StringProducerOptions): StringProducer {
    return this.opts.createClient ? this.opts.createClient(options) : new Producer(options);
  }

  private createProducer(bootstrap: string[]): StringProducer {
    const { kafka } = this.config;
    const producer = this.newClient({
      clientId: kafka.clientId,
      bootstrapBrokers: bootstrap,
      idempotent: false,
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
    const suspect = ({ broker }: { broker: { host: string; port: number } }): void => {
      const id = `${broker.host}:${broker.port}`;
      this.brokerOrder.suspect(id);
      if (this.leaders.has(id)) this.failAttemptsInFlight(id);
    };
    for (const event of BROKER_TROUBLE_EVENTS) producer.on(event, suspect);
    return producer;
  }

  /**
   * The connection to a partition leader dropped (its process died, it restarted): the produce
   * requests in flight to it would only end with the attempt timeout, so they fail now and retry
   * against the leader the controller elects. A record the dead leader had written may then be
   * in Kafka twice; the consumer stores a message_uid once.
   */
  private failAttemptsInFlight(broker: string): void {
    const waiting = [...this.inFlight];
    this.inFlight.clear();
    for (const fail of waiting) fail(new Error(`kafka partition leader ${broker} dropped`));
  }

  private failOnLeaderDrop<T>(work: Promise<T>): Promise<T> {
    let fail: (error: Error) => void = () => undefined;
    const dropped = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.inFlight.add(fail);
    return Promise.race([work, dropped]).finally(() => this.inFlight.delete(fail));
  }

  private async readLeaders(forceUpdate: boolean): Promise<string[]> {
    const { topic } = this.config.kafka;
    const metadata = await this.producer.metadata({ topics: [topic], forceUpdate });
    const leaders = (metadata.topics.get(topic)?.partitions ?? []).map((p) => {
      const broker = metadata.brokers.get(p.leader);
      return broker ? `${broker.host}:${broker.port}` : "";
    });
    this.leaders = new Set(leaders);
    return leaders;
  }

  /**
   * Before a retry: when a bootstrap broker dropped its connection, a new producer asks the
   * healthy brokers first (the old producer's requests in flight fail or finish; their publishes
   * retry). Before any attempt while a broker is suspect: while the metadata names a suspect
   * broker as a leader (the controller has not fenced it yet), it is refreshed again for up to
   * leaderWaitMs (the controller's time to fence a dead broker) instead of sending a request that
   * would hang, so the attempt leaves as soon as the new leader is known.
   */
  private async beforeAttempt(attempt: number, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    const until = started + this.config.kafka.leaderWaitMs;
    // The first read of an attempt without suspects comes from the client's metadata cache.
    for (let forceUpdate = attempt > 1; ; forceUpdate = true) {
      // Probe the leaders known so far before asking: the read may wait on a silent broker.
      for (const b of this.leaders) if (this.brokerOrder.isSuspect(b)) this.probeSuspect(b);
      if (forceUpdate || this.brokerOrder.hasSuspects()) this.askHealthyBrokersFirst();
      const leaders = await this.readLeaders(forceUpdate);
      for (const b of leaders) if (this.brokerOrder.isSuspect(b)) this.probeSuspect(b);
      const suspectLeader = leaders.some((b) => b === "" || this.brokerOrder.isSuspect(b));
      if (!suspectLeader || Date.now() >= until) {
        if (forceUpdate) this.noteLeaders(leaders, Date.now() - started, suspectLeader);
        return;
      }
      await sleep(LEADER_POLL_MS, signal);
    }
  }

  /**
   * Asks a suspected leader itself for the metadata, over a client of its own: a broker whose
   * connection dropped because a request of ours timed out (a slow moment, not a death) answers,
   * and is trusted again at once instead of after leaderWaitMs. A dead, stopped or cut-off broker
   * does not answer; a frozen one accepts the connection but does not answer either.
   */
  private probeSuspect(broker: string): void {
    if (this.probes.has(broker)) return;
    const { kafka } = this.config;
    const client = this.newClient({
      clientId: `${kafka.clientId}-probe`,
      bootstrapBrokers: [broker],
      serializers: stringSerializers,
      connectTimeout: kafka.connectTimeoutMs,
      requestTimeout: kafka.requestTimeoutMs,
      retries: 0,
    });
    const probe = withTimeout(
      client.metadata({ topics: [kafka.topic], forceUpdate: true }),
      this.attemptTimeoutMs,
      "kafka probe",
    )
      .then(
        () => {
          this.brokerOrder.clear(broker);
          this.logger.info({ broker }, "suspected kafka broker answered; trusting it again");
        },
        () => undefined,
      )
      .finally(() => {
        this.probes.delete(broker);
        void client.close(true).catch(() => undefined);
      });
    this.probes.set(broker, probe);
  }

  /** One log line per leader set a waiting publish settled on (not one per publish). */
  private noteLeaders(leaders: string[], waitedMs: number, stillSuspect: boolean): void {
    const key = leaders.join(",");
    if (key === this.notedLeaders) return;
    this.notedLeaders = key;
    this.logger.info({ leaders, waitedMs, stillSuspect }, "kafka partition leaders after a wait");
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
            await this.failOnLeaderDrop(
              withTimeout(this.batcher.add(record), this.attemptTimeoutMs, "kafka produce"),
            );
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

/** Idempotent producer with acks=all; publish() resolves only once every in-sync replica has the record. */
import { ProduceAcks, Producer, stringSerializers } from "@platformatic/kafka";
import type { Logger } from "pino";
import type { AppConfig } from "./config";
import type { MessagePayload } from "./message";
import { MicroBatcher } from "./micro-batcher";
import { retry } from "./retry";

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
   */
  publishDeadlineMs: number;
}

export class KafkaPublisher implements Publisher {
  private readonly producer: Producer<string, string, string, string>;
  // Concurrent requests share one produce request: fewer round trips, same acks=all guarantee.
  private readonly batcher: MicroBatcher<OutgoingRecord>;

  constructor(
    private readonly config: AppConfig,
    private readonly logger: Logger,
    private readonly opts: KafkaPublisherOptions = {
      publishDeadlineMs: config.kafka.publishDeadlineMs,
    },
  ) {
    this.producer = new Producer<string, string, string, string>({
      clientId: config.kafka.clientId,
      bootstrapBrokers: config.kafka.brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      serializers: stringSerializers,
      autocreateTopics: false,
      connectTimeout: config.kafka.connectTimeoutMs,
      timeout: config.kafka.requestTimeoutMs,
      retries: 3,
      retryDelay: 250,
    });
    this.batcher = new MicroBatcher<OutgoingRecord>(
      async (messages) => {
        await this.producer.send({ messages });
      },
      { lingerMs: 2, maxItems: 200 },
    );
  }

  async publish(payload: MessagePayload): Promise<void> {
    await retry(
      () =>
        this.batcher.add({
          topic: this.config.kafka.topic,
          key: payload.message_uid,
          value: JSON.stringify(payload),
        }),
      {
        baseMs: 200,
        maxMs: 2000,
        deadlineMs: this.opts.publishDeadlineMs,
        onRetry: (error, attempt) =>
          this.logger.warn(
            { err: error, attempt, message_uid: payload.message_uid },
            "kafka produce failed; retrying",
          ),
      },
    );
  }

  async ping(): Promise<void> {
    await this.producer.metadata({ topics: [this.config.kafka.topic], forceUpdate: true });
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

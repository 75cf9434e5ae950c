import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { ProduceAcks } from "@platformatic/kafka";
import pino from "pino";
import { loadConfig } from "../../src/config";
import type { MessagePayload } from "../../src/message";
import {
  KafkaPublisher,
  type StringProducer,
  type StringProducerOptions,
} from "../../src/producer";

const BROKERS = ["10.0.0.16:9092", "10.0.0.17:9092"];

interface State {
  leader: number;
  /** Brokers that refuse connections. */
  dead: Set<string>;
}

/** A stand-in for the Kafka client: one partition, led by `leader`; sends wait for `answer`. */
class FakeClient extends EventEmitter {
  readonly sends: { acks?: number; messages: unknown[] }[] = [];
  private pending: (() => void)[] = [];

  constructor(
    readonly options: StringProducerOptions,
    private readonly state: State,
  ) {
    super();
  }

  metadata(): Promise<unknown> {
    const only = this.options.bootstrapBrokers;
    if (Array.isArray(only) && only.length === 1 && this.state.dead.has(String(only[0]))) {
      return Promise.reject(new Error("connection refused"));
    }
    const brokers = new Map(
      BROKERS.map((b, i) => {
        const [host, port] = b.split(":");
        return [i + 1, { host, port: Number(port) }];
      }),
    );
    const topics = new Map([["messages", { partitions: [{ leader: this.state.leader }] }]]);
    return Promise.resolve({ brokers, topics });
  }

  send(options: { acks?: number; messages: unknown[] }): Promise<void> {
    this.sends.push(options);
    return new Promise((resolve) => this.pending.push(resolve));
  }

  answer(): void {
    this.pending.splice(0).forEach((resolve) => resolve());
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function setUp(): { publisher: KafkaPublisher; clients: FakeClient[]; state: State } {
  const config = loadConfig({
    NODE_NAME: "webserver1",
    PG_PASSWORD: "secret",
    KAFKA_BROKERS: BROKERS.join(","),
    KAFKA_LEADER_WAIT_MS: "3000",
  });
  const state: State = { leader: 1, dead: new Set() };
  const clients: FakeClient[] = [];
  const publisher = new KafkaPublisher(config, pino({ level: "silent" }), {
    publishDeadlineMs: 10000,
    createClient: (options) => {
      const client = new FakeClient(options, state);
      clients.push(client);
      return client as unknown as StringProducer;
    },
  });
  return { publisher, clients, state };
}

const payload = (uid: string): MessagePayload => ({
  message_uid: uid,
  timestamp: "2026-12-01T00:00:00.000Z",
  hostname: "webserver1",
  body: "hello",
});

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(condition(), what);
}

describe("KafkaPublisher", () => {
  it("asks for acks from every in-sync replica on each send (not the client's acks=1 default)", async () => {
    const { publisher, clients } = setUp();
    const done = publisher.publish(payload("a"));
    await until("a send", () => clients[0].sends.length === 1);
    clients[0].answer();
    await done;
    assert.equal(clients[0].sends[0].acks, ProduceAcks.ALL);
    assert.equal(clients[0].options.idempotent, false);
  });

  it("fails the send in flight at once when the leader's connection drops, and resends to the new leader", async () => {
    const { publisher, clients, state } = setUp();
    const started = Date.now();
    const done = publisher.publish(payload("b"));
    await until("a send", () => clients[0].sends.length === 1);
    // The leader dies: the client reports the dropped connection but never settles the request.
    state.leader = 2;
    state.dead.add("10.0.0.16:9092");
    clients[0].emit("client:broker:disconnect", { broker: { host: "10.0.0.16", port: 9092 } });
    const replacement = (): FakeClient | undefined =>
      clients.find((c) => c !== clients[0] && c.options.bootstrapBrokers?.length === 2);
    await until("a second client that asks the healthy broker first", () => !!replacement());
    assert.deepEqual(replacement()?.options.bootstrapBrokers, ["10.0.0.17:9092", "10.0.0.16:9092"]);
    await until("a resend", () => replacement()?.sends.length === 1);
    replacement()?.answer();
    await done;
    const attemptTimeoutMs = 1000 + 1000; // request + connect timeout (the contract defaults)
    assert.ok(Date.now() - started < attemptTimeoutMs, "did not wait for the attempt timeout");
  });

  it("does not fail a send when a broker that leads nothing drops", async () => {
    const { publisher, clients } = setUp();
    const done = publisher.publish(payload("c"));
    await until("a send", () => clients[0].sends.length === 1);
    clients[0].emit("client:broker:disconnect", { broker: { host: "10.0.0.17", port: 9092 } });
    await new Promise((r) => setTimeout(r, 50));
    clients[0].answer();
    await done;
    assert.equal(clients.length, 1, "no replacement client");
    assert.equal(clients[0].sends.length, 1, "no resend");
  });

  it("trusts a suspected leader again as soon as it answers a probe of its own", async () => {
    const { publisher, clients } = setUp();
    const started = Date.now();
    const done = publisher.publish(payload("d"));
    await until("a send", () => clients[0].sends.length === 1);
    // The connection to the leader drops, but the broker is alive and stays the leader.
    clients[0].emit("client:broker:disconnect", { broker: { host: "10.0.0.16", port: 9092 } });
    await until("a probe of the leader", () =>
      clients.some((c) => c.options.bootstrapBrokers?.toString() === "10.0.0.16:9092"),
    );
    await until("a resend", () => clients.slice(1).some((c) => c.sends.length > 0));
    clients.forEach((c) => c.answer());
    await done;
    assert.ok(Date.now() - started < 3000, "did not wait out KAFKA_LEADER_WAIT_MS");
  });

  it("keeps waiting for a new leader while the suspected one does not answer", async () => {
    const { publisher, clients, state } = setUp();
    const done = publisher.publish(payload("e"));
    await until("a send", () => clients[0].sends.length === 1);
    state.dead.add("10.0.0.16:9092");
    clients[0].emit("client:broker:disconnect", { broker: { host: "10.0.0.16", port: 9092 } });
    await new Promise((r) => setTimeout(r, 500));
    const sends = (): number => clients.slice(1).reduce((n, c) => n + c.sends.length, 0);
    assert.equal(sends(), 0, "nothing sent to the dead leader");
    state.leader = 2;
    await until("a resend once the leader moved", () => sends() === 1);
    clients.forEach((c) => c.answer());
    await done;
  });
});

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import pino from "pino";
import { loadConfig } from "../../src/config";
import type { StoredMessage } from "../../src/db";
import { buildServer } from "../../src/http/server";
import type { MessagePayload } from "../../src/message";
import { createMetrics } from "../../src/metrics";
import type { Publisher } from "../../src/producer";

/** Records what would go to Kafka; `failing` makes it behave like an unreachable cluster. */
class RecordingPublisher implements Publisher {
  readonly published: MessagePayload[] = [];
  failing = false;
  async publish(payload: MessagePayload): Promise<void> {
    if (this.failing) throw new Error("no broker available");
    this.published.push(payload);
  }
  async ping(): Promise<void> {
    if (this.failing) throw new Error("no broker available");
  }
  async close(): Promise<void> {}
}

const stored: StoredMessage = {
  message_uid: "uid-<1>",
  body: "<script>alert(1)</script>",
  produced_by: "webserver1",
  produced_at: "2026-01-01T00:00:00Z",
  stored_by: "webserver2",
  stored_at: "2026-01-01T00:00:01Z",
};

function setup() {
  const config = loadConfig({
    NODE_NAME: "webserver1",
    PG_PASSWORD: "x",
    KAFKA_BROKERS: "127.0.0.1:9092",
    MAX_BODY_BYTES: "1024",
  });
  const publisher = new RecordingPublisher();
  let dbUp = true;
  let uid = 0;
  const app = buildServer({
    config,
    logger: pino({ level: "silent" }),
    metrics: createMetrics("webserver1"),
    publisher,
    reader: {
      list: async (page) => ({ total: 51, messages: page.offset === 0 ? [stored] : [] }),
      ping: async () => {
        if (!dbUp) throw new Error("connection refused");
      },
    },
    consumerRunning: () => true,
    newUid: () => `uid-${++uid}`,
    now: () => new Date("2026-01-01T00:00:00Z"),
  });
  return { app, publisher, setDb: (up: boolean) => (dbUp = up) };
}

describe("http routes", () => {
  const { app, publisher, setDb } = setup();
  after(() => app.close());

  it("answers 202 with the uid after Kafka acknowledged, naming the node", async () => {
    const res = await app.inject({ method: "POST", url: "/messages", payload: { body: "hello" } });
    assert.equal(res.statusCode, 202);
    assert.equal(res.headers["x-served-by"], "webserver1");
    const uid = res.json().message_uid;
    assert.equal(publisher.published.at(-1)?.message_uid, uid);
    assert.deepEqual(publisher.published.at(-1), {
      message_uid: uid,
      timestamp: "2026-01-01T00:00:00.000Z",
      hostname: "webserver1",
      body: "hello",
    });
  });

  it("uses the Idempotency-Key header as message_uid", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/messages",
      headers: { "idempotency-key": "client-key-42" },
      payload: { body: "again" },
    });
    assert.equal(res.json().message_uid, "client-key-42");
  });

  it("accepts the HTML form and answers with a page", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/messages",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "body=from+the+form&idempotency_key=form-key-0001",
    });
    assert.equal(res.statusCode, 202);
    assert.match(res.headers["content-type"] as string, /text\/html/);
    assert.match(res.body, /form-key-0001/);
    assert.equal(publisher.published.at(-1)?.body, "from the form");
  });

  it("rejects bad input with 400 and publishes nothing", async () => {
    const before = publisher.published.length;
    const res = await app.inject({ method: "POST", url: "/messages", payload: { body: 7 } });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error, /body must be a string/);
    assert.equal(res.headers["x-served-by"], "webserver1");
    assert.equal(publisher.published.length, before);
  });

  it("rejects an oversized request with 413 and unparsable JSON with 400", async () => {
    const big = await app.inject({
      method: "POST",
      url: "/messages",
      payload: { body: "x".repeat(2000) },
    });
    assert.equal(big.statusCode, 413);
    const broken = await app.inject({
      method: "POST",
      url: "/messages",
      headers: { "content-type": "application/json" },
      payload: '{"body":',
    });
    assert.equal(broken.statusCode, 400);
  });

  it("answers 503 with Retry-After when Kafka does not acknowledge; reads keep working", async () => {
    publisher.failing = true;
    try {
      const res = await app.inject({ method: "POST", url: "/messages", payload: { body: "x" } });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers["retry-after"], "1");
      const ready = await app.inject({ method: "GET", url: "/readyz" });
      assert.equal(ready.statusCode, 200, "a Kafka outage does not make the node unready");
      assert.equal(ready.json().kafka, "no broker available");
      assert.equal((await app.inject({ method: "GET", url: "/api/messages" })).statusCode, 200);
      assert.equal((await app.inject({ method: "GET", url: "/admin" })).statusCode, 200);
      assert.equal((await app.inject({ method: "GET", url: "/healthz" })).statusCode, 200);
    } finally {
      publisher.failing = false;
    }
  });

  it("reports the database state without turning it into unreadiness", async () => {
    assert.equal((await app.inject({ method: "GET", url: "/readyz" })).statusCode, 200);
    setDb(false);
    const res = await app.inject({ method: "GET", url: "/readyz" });
    setDb(true);
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().database, "connection refused");
  });

  it("renders the form with a fresh idempotency key", async () => {
    const res = await app.inject({ method: "GET", url: "/" });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /name="idempotency_key" value="uid-\d+"/);
    assert.match(res.body, /<strong id="served-by">webserver1<\/strong>/);
  });

  it("renders the admin page escaped, with paging", async () => {
    const res = await app.inject({ method: "GET", url: "/admin" });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(res.body, /<script>/);
    assert.match(res.body, /Page 1 of 2/);
    assert.match(res.body, /href="\/admin\?page=2"/);
    assert.equal((await app.inject({ method: "GET", url: "/admin?page=0" })).statusCode, 400);
  });

  it("serves stored messages as JSON for the drills", async () => {
    const res = await app.inject({ method: "GET", url: "/api/messages?limit=10" });
    assert.deepEqual(res.json(), {
      served_by: "webserver1",
      total: 51,
      limit: 10,
      offset: 0,
      messages: [stored],
    });
    assert.equal(
      (await app.inject({ method: "GET", url: "/api/messages?limit=0" })).statusCode,
      400,
    );
  });

  it("names the node on 404 and health, and exposes metrics", async () => {
    const missing = await app.inject({ method: "GET", url: "/nope" });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers["x-served-by"], "webserver1");
    assert.deepEqual((await app.inject({ method: "GET", url: "/healthz" })).json(), {
      status: "ok",
      served_by: "webserver1",
    });
    const metrics = await app.inject({ method: "GET", url: "/metrics" });
    assert.match(metrics.body, /app_messages_produced_total\{node="webserver1"\} [1-9]/);
    assert.match(
      metrics.body,
      /app_http_requests_total\{method="POST",route="\/messages",status="202"/,
    );
    assert.match(metrics.body, /app_produce_failures_total\{node="webserver1"\} 1/);
  });
});

/**
 * The whole write path against a real PostgreSQL 15 and a real KRaft Kafka broker, with the app
 * running as two real processes (webserver1, webserver2) in one consumer group.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../support/app-process";
import { postMessage, postUntilAccepted, runPool } from "../support/client";
import { type Stack, startStack, sumMetric } from "../support/stack";
import { BAD_INPUTS, sendBadInput } from "./bad-inputs";

const SESSION_TIMEOUT_MS = 6000;

interface Row {
  message_uid: string;
  stored_by: string;
  stored_ms: string;
}

describe("pipeline: HTTP -> Kafka -> PostgreSQL (real servers)", () => {
  let stack: Stack;

  const rowCount = async (): Promise<number> =>
    Number((await stack.pg.query<{ n: string }>("SELECT count(*) AS n FROM messages"))[0]?.n);

  const rowsFor = (uids: string[]): Promise<Row[]> =>
    stack.pg.query<Row>(
      `SELECT message_uid, stored_by, (extract(epoch FROM stored_at) * 1000)::bigint::text AS stored_ms
         FROM messages WHERE message_uid = ANY($1::text[]) ORDER BY stored_at`,
      [uids],
    );

  const waitStored = async (uids: string[], timeoutMs: number): Promise<Row[]> => {
    let rows: Row[] = [];
    await waitFor(
      `${uids.length} messages stored`,
      async () => {
        rows = await rowsFor(uids);
        return rows.length === uids.length;
      },
      timeoutMs,
      200,
    );
    return rows;
  };

  /** The node whose consumer stores right now: it stores a probe message. */
  const currentConsumer = async (): Promise<string> => {
    const uid = `probe-${randomUUID()}`;
    await postUntilAccepted(stack.apps, 0, uid, "probe");
    const [row] = await waitStored([uid], 30000);
    return row?.stored_by as string;
  };

  before(
    async () => {
      stack = await startStack({
        apps: 2,
        appEnv: {
          KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
          KAFKA_HEARTBEAT_INTERVAL_MS: "1000",
        },
      });
    },
    { timeout: 240000 },
  );

  after(async () => {
    await stack?.stop();
  });

  it(`rejects ${BAD_INPUTS.length} bad inputs with a 4xx and stores none of them`, async () => {
    assert.ok(BAD_INPUTS.length >= 20);
    for (const [index, bad] of BAD_INPUTS.entries()) {
      const app = stack.apps[index % stack.apps.length];
      assert.ok(app);
      const { status, servedBy } = await sendBadInput(app, bad);
      assert.equal(status, bad.status, `${bad.name}: expected ${bad.status}, got ${status}`);
      assert.equal(servedBy, app.nodeName, `${bad.name}: X-Served-By`);
    }
    assert.equal(await sumMetric(stack.apps, "app_messages_produced_total"), 0);
    // A sentinel behind the bad inputs proves the pipeline flowed while nothing else arrived.
    const sentinel = `sentinel-${randomUUID()}`;
    await postUntilAccepted(stack.apps, 0, sentinel, "sentinel");
    await waitStored([sentinel], 30000);
    assert.equal(await rowCount(), 1);
  });

  it("stores server-generated uids and shows them on /api/messages and /admin", async () => {
    const uids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const app = stack.apps[i % 2];
      assert.ok(app);
      const result = await postMessage(app, { body: `generated <${i}> & "quoted"` });
      assert.equal(result.status, 202);
      assert.equal(result.servedBy, app.nodeName);
      assert.match(String(result.body.message_uid), /^[0-9a-f-]{36}$/);
      uids.push(String(result.body.message_uid));
    }
    await waitStored(uids, 30000);
    const app = stack.apps[0];
    assert.ok(app);
    const api = (await (await fetch(`${app.url}/api/messages?limit=5`)).json()) as {
      served_by: string;
      total: number;
      messages: { message_uid: string; produced_by: string; stored_by: string }[];
    };
    assert.equal(api.served_by, app.nodeName);
    assert.equal(api.total, 11);
    assert.equal(api.messages.length, 5);
    assert.ok(uids.includes(api.messages[0]?.message_uid as string));
    const admin = await fetch(`${app.url}/admin`);
    const html = await admin.text();
    assert.equal(admin.headers.get("x-served-by"), app.nodeName);
    assert.match(html, /generated &lt;9&gt; &amp; &quot;quoted&quot;/);
    assert.doesNotMatch(html, /generated <9>/);
  });

  it(
    "stores 1000 acknowledged messages exactly once across 100 duplicates and a broker kill",
    { timeout: 300000 },
    async (t) => {
      const before = await rowCount();
      const duplicatesBefore = await sumMetric(stack.apps, "app_duplicates_skipped_total");
      const keys = Array.from({ length: 1000 }, () => randomUUID());
      let acked = 0;
      let brokerDownAt = 0;
      let brokerUpAt = 0;
      let restart: Promise<void> | undefined;
      await runPool(keys.length, 8, async (i) => {
        await postUntilAccepted(stack.apps, i, keys[i] as string, `message ${i}`);
        acked++;
        if (acked === 400 && !restart) {
          restart = (async () => {
            await stack.kafka.kill();
            brokerDownAt = Date.now();
            await new Promise((r) => setTimeout(r, 2000));
            await stack.kafka.start();
            brokerUpAt = Date.now();
          })();
        }
      });
      await restart;
      // The first 100 messages again, through the HTTP API: the consumer must skip them.
      await runPool(100, 8, async (i) => {
        await postUntilAccepted(stack.apps, i, keys[i] as string, `message ${i}`);
      });

      const rows = await waitStored(keys, 120000);
      await waitFor(
        "100 duplicates counted",
        async () =>
          (await sumMetric(stack.apps, "app_duplicates_skipped_total")) - duplicatesBefore >= 100,
        60000,
      );
      assert.equal(new Set(rows.map((r) => r.message_uid)).size, 1000);
      assert.equal((await rowCount()) - before, 1000, "no row beyond the acknowledged messages");

      const stored = rows.map((r) => Number(r.stored_ms));
      const firstAfterUp = stored.find((s) => s >= brokerUpAt) ?? NaN;
      let maxGap = 0;
      for (let i = 1; i < stored.length; i++) {
        maxGap = Math.max(maxGap, (stored[i] as number) - (stored[i - 1] as number));
      }
      const byNode = new Map<string, number>();
      for (const r of rows) byNode.set(r.stored_by, (byNode.get(r.stored_by) ?? 0) + 1);
      const report =
        `broker down ${brokerUpAt - brokerDownAt} ms (kill to port open); ` +
        `first row stored ${firstAfterUp - brokerUpAt} ms after the broker was back; ` +
        `longest gap between stored rows ${maxGap} ms; stored by ${JSON.stringify(Object.fromEntries(byNode))}; ` +
        `duplicates skipped ${(await sumMetric(stack.apps, "app_duplicates_skipped_total")) - duplicatesBefore}`;
      t.diagnostic(report);
      process.stdout.write(`# broker restart: ${report}\n`);
    },
  );

  it("keeps storing while PostgreSQL is down for 3 s (acknowledged messages wait in Kafka)", async (t) => {
    const keys = Array.from({ length: 50 }, () => randomUUID());
    await runPool(10, 5, async (i) => {
      await postUntilAccepted(stack.apps, i, keys[i] as string, `pg ${i}`);
    });
    const outage = stack.pg.restart(3000);
    await runPool(40, 5, async (i) => {
      await postUntilAccepted(stack.apps, i, keys[i + 10] as string, `pg ${i + 10}`);
    });
    await outage;
    const rows = await waitStored(keys, 60000);
    assert.equal(rows.length, 50);
    t.diagnostic(`store retries so far: ${await sumMetric(stack.apps, "app_store_retries_total")}`);
  });

  for (const [signal, label] of [
    ["SIGKILL", "killed (no goodbye)"],
    ["SIGTERM", "stopped gracefully"],
  ] as const) {
    it(`moves consumption to the other node when the consuming node is ${label}`, async (t) => {
      const holderName = await currentConsumer();
      const holder = stack.apps.find((a) => a.nodeName === holderName);
      const other = stack.apps.find((a) => a.nodeName !== holderName);
      assert.ok(holder && other);
      const stoppedAt = Date.now();
      const code = await holder.stop(signal);
      if (signal === "SIGTERM") assert.equal(code, 0, "graceful shutdown exits 0");
      const keys = Array.from({ length: 20 }, () => randomUUID());
      await runPool(keys.length, 4, async (i) => {
        await postUntilAccepted([other], 0, keys[i] as string, `failover ${i}`);
      });
      const rows = await waitStored(keys, 60000);
      assert.ok(rows.every((r) => r.stored_by === other.nodeName));
      const pause = Number(rows[0]?.stored_ms) - stoppedAt;
      const report = `${holderName} ${label}: ${other.nodeName} stored again after ${pause} ms`;
      t.diagnostic(report);
      process.stdout.write(`# node loss: ${report}\n`);
      assert.ok(pause < 20000, `pause ${pause} ms must stay far below the paper's ~30 s`);
      await holder.start();
      await waitFor(
        `${holderName} ready`,
        async () => (await fetch(`${holder.url}/readyz`)).ok,
        30000,
      );
    });
  }
});

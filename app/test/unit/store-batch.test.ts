import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MessagePayload } from "../../src/message";
import { type ConsumedRecord, lastRecordPerPartition, storeBatch } from "../../src/store-batch";

/** A uid-keyed table with the same contract as insertMessages: returns the uids that were new. */
class Table {
  readonly rows = new Map<string, MessagePayload>();
  failuresLeft = 0;
  calls = 0;
  constructor(private readonly events: string[]) {}
  insert = async (messages: MessagePayload[]): Promise<Set<string>> => {
    this.calls++;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      this.events.push("insert failed");
      throw new Error("connection refused");
    }
    const inserted = new Set<string>();
    for (const m of messages) {
      if (!this.rows.has(m.message_uid)) {
        this.rows.set(m.message_uid, m);
        inserted.add(m.message_uid);
      }
    }
    this.events.push(`insert ${inserted.size}`);
    return inserted;
  };
}

function record(
  events: string[],
  partition: number,
  offset: number,
  uid: string | null,
  commitFailures = 0,
): ConsumedRecord {
  let failures = commitFailures;
  return {
    topic: "messages",
    partition,
    offset: BigInt(offset),
    value:
      uid === null
        ? "not json"
        : JSON.stringify({
            message_uid: uid,
            timestamp: "2026-01-01T00:00:00Z",
            hostname: "w1",
            body: uid,
          }),
    commit: async () => {
      if (failures > 0) {
        failures--;
        events.push(`commit ${partition}@${offset} failed`);
        throw new Error("rebalance in progress");
      }
      events.push(`commit ${partition}@${offset}`);
    },
  };
}

const deps = (table: Table, extra: Partial<Parameters<typeof storeBatch>[1]> = {}) => ({
  insert: table.insert,
  retry: { baseMs: 1, maxMs: 2 },
  commitAttempts: 3,
  ...extra,
});

describe("storeBatch", () => {
  it("commits only after the insert has committed, once per partition", async () => {
    const events: string[] = [];
    const table = new Table(events);
    const records = [
      record(events, 0, 10, "a"),
      record(events, 0, 11, "b"),
      record(events, 0, 12, "c"),
    ];
    const outcome = await storeBatch(records, deps(table));
    assert.deepEqual(events, ["insert 3", "commit 0@12"]);
    assert.deepEqual(outcome, { consumed: 3, stored: 3, duplicates: 0, invalid: 0, committed: 1 });
  });

  it("counts duplicates already stored and repeated inside the batch", async () => {
    const events: string[] = [];
    const table = new Table(events);
    await storeBatch([record(events, 0, 1, "a")], deps(table));
    const outcome = await storeBatch(
      [record(events, 0, 2, "a"), record(events, 0, 3, "b"), record(events, 0, 4, "b")],
      deps(table),
    );
    assert.equal(outcome.stored, 1);
    assert.equal(outcome.duplicates, 2);
    assert.equal(table.rows.size, 2);
  });

  it("retries a failing insert and commits nothing before it succeeds", async () => {
    const events: string[] = [];
    const table = new Table(events);
    table.failuresLeft = 2;
    const retries: string[] = [];
    await storeBatch(
      [record(events, 0, 5, "a")],
      deps(table, { onRetry: (stage) => retries.push(stage) }),
    );
    assert.deepEqual(events, ["insert failed", "insert failed", "insert 1", "commit 0@5"]);
    assert.deepEqual(retries, ["insert", "insert"]);
  });

  it("retries every error a PostgreSQL failover throws, without skipping the batch", async () => {
    const events: string[] = [];
    const failures = [
      "terminating connection due to administrator command",
      "read ECONNRESET",
      "Connection terminated unexpectedly",
      "cannot execute INSERT in a read-only transaction",
      "the database system is in recovery mode",
      "the database system is starting up",
      "no replica flushed the batch's WAL (up to 0/3000100) within 5000 ms (1 connected)",
    ];
    let attempt = 0;
    const outcome = await storeBatch([record(events, 0, 7, "a"), record(events, 0, 8, "b")], {
      ...deps(new Table(events)),
      insert: async (messages) => {
        const failure = failures[attempt++];
        if (failure !== undefined) {
          events.push("insert failed");
          throw new Error(failure);
        }
        events.push(`insert ${messages.length}`);
        return new Set(messages.map((m) => m.message_uid));
      },
    });
    assert.deepEqual(events, [...failures.map(() => "insert failed"), "insert 2", "commit 0@8"]);
    assert.equal(outcome.stored, 2);
  });

  it("counts rows inserted by an attempt that was not confirmed durable as stored", async () => {
    const events: string[] = [];
    const table = new Table(events);
    let confirmations = 0;
    const outcome = await storeBatch(
      [record(events, 0, 1, "a"), record(events, 0, 2, "b"), record(events, 0, 3, "c")],
      {
        ...deps(table),
        // The first attempt inserts a, b, c but no replica confirms them; the second finds them.
        insert: async (messages) => {
          const inserted = await table.insert(messages);
          if (confirmations++ === 0) {
            events.push("not on a replica");
            throw Object.assign(new Error("no replica flushed"), { insertedUids: inserted });
          }
          return inserted;
        },
      },
    );
    assert.deepEqual(events, ["insert 3", "not on a replica", "insert 0", "commit 0@3"]);
    assert.deepEqual(outcome, { consumed: 3, stored: 3, duplicates: 0, invalid: 0, committed: 1 });
  });

  it("never commits when the insert cannot succeed before stop", async () => {
    const events: string[] = [];
    const table = new Table(events);
    table.failuresLeft = 1000;
    const controller = new AbortController();
    const pending = storeBatch(
      [record(events, 0, 5, "a")],
      deps(table, { signal: controller.signal, retry: { baseMs: 5, maxMs: 5 } }),
    );
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(pending);
    assert.ok(!events.some((e) => e.startsWith("commit")));
  });

  it("skips malformed records but still commits past them", async () => {
    const events: string[] = [];
    const table = new Table(events);
    const invalid: bigint[] = [];
    const outcome = await storeBatch(
      [record(events, 0, 1, null), record(events, 0, 2, "a"), record(events, 0, 3, null)],
      deps(table, { onInvalid: (r) => invalid.push(r.offset) }),
    );
    assert.deepEqual(invalid, [1n, 3n]);
    assert.deepEqual(outcome, { consumed: 3, stored: 1, duplicates: 0, invalid: 2, committed: 1 });
    assert.deepEqual(events, ["insert 1", "commit 0@3"]);
  });

  it("does not touch the database for a batch of malformed records only", async () => {
    const events: string[] = [];
    const table = new Table(events);
    await storeBatch([record(events, 0, 1, null)], deps(table));
    assert.equal(table.calls, 0);
    assert.deepEqual(events, ["commit 0@1"]);
  });

  it("retries a failed commit, then gives up so the batch is re-delivered", async () => {
    const events: string[] = [];
    const table = new Table(events);
    await storeBatch([record(events, 0, 1, "a", 2)], deps(table));
    assert.deepEqual(events, ["insert 1", "commit 0@1 failed", "commit 0@1 failed", "commit 0@1"]);

    const stuck: string[] = [];
    await assert.rejects(
      storeBatch([record(stuck, 0, 2, "b", 10)], deps(new Table(stuck))),
      /rebalance/,
    );
    assert.equal(stuck.filter((e) => e.endsWith("failed")).length, 3);
  });

  it("picks the highest offset of each partition", () => {
    const events: string[] = [];
    const last = lastRecordPerPartition([
      record(events, 1, 7, "a"),
      record(events, 0, 3, "b"),
      record(events, 1, 9, "c"),
      record(events, 0, 2, "d"),
    ]);
    assert.deepEqual(
      last.map((r) => `${r.partition}@${r.offset}`),
      ["1@9", "0@3"],
    );
  });
});

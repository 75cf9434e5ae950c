import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { insertMessagesDurably, type SessionPool } from "../../src/db";
import type { MessagePayload } from "../../src/message";
import {
  decideFlush,
  parseLsn,
  ReplicaFlushError,
  type ReplicationProbe,
  type ReplicationRow,
  waitForReplicaFlush,
} from "../../src/replica-flush";

const streaming = (flush: string | null): ReplicationRow => ({
  state: "streaming",
  flush_lsn: flush,
});

describe("parseLsn", () => {
  it("reads both halves as hex and orders across the 32-bit boundary", () => {
    assert.equal(parseLsn("0/0"), 0n);
    assert.equal(parseLsn("16/B374D848"), (0x16n << 32n) | 0xb374d848n);
    assert.ok(parseLsn("1/0") > parseLsn("0/FFFFFFFF"));
    assert.ok(parseLsn("A/1") > parseLsn("9/FFFFFFFF"), "text comparison would say otherwise");
  });

  it("refuses what is not a WAL position", () => {
    assert.throws(() => parseLsn(""), /not a WAL position/);
    assert.throws(() => parseLsn("0/"), /not a WAL position/);
    assert.throws(() => parseLsn("123456789/0"), /not a WAL position/);
  });
});

describe("decideFlush", () => {
  const target = parseLsn("0/3000100");

  it("proceeds without waiting when no replica is connected", () => {
    assert.deepEqual(decideFlush([], target, 0, 5000), { kind: "no-replica" });
    assert.deepEqual(
      decideFlush([{ state: "backup", flush_lsn: null }], target, 0, 5000),
      { kind: "no-replica" },
      "a base backup in progress is not a replica",
    );
  });

  it("is done once one replica flushed up to the target or beyond", () => {
    assert.deepEqual(decideFlush([streaming("0/3000100")], target, 0, 5000), {
      kind: "flushed",
      replicas: 1,
    });
    assert.deepEqual(decideFlush([streaming("0/2FFFFFF"), streaming("1/0")], target, 4999, 5000), {
      kind: "flushed",
      replicas: 2,
    });
    assert.deepEqual(
      decideFlush([streaming("0/3000200")], target, 9000, 5000),
      { kind: "flushed", replicas: 1 },
      "a flush seen at the last look counts even past the bound",
    );
  });

  it("waits while a connected replica is behind and time is left", () => {
    assert.deepEqual(decideFlush([streaming("0/30000FF")], target, 10, 5000), {
      kind: "wait",
      replicas: 1,
    });
    assert.deepEqual(
      decideFlush([{ state: "startup", flush_lsn: null }], target, 10, 5000),
      { kind: "wait", replicas: 1 },
      "a replica that has not reported a flush yet is connected",
    );
    assert.deepEqual(
      decideFlush([{ state: "catchup", flush_lsn: "0/1000000" }], target, 10, 5000),
      { kind: "wait", replicas: 1 },
    );
  });

  it("fails once the bound has passed with a connected replica behind", () => {
    assert.deepEqual(decideFlush([streaming("0/30000FF")], target, 5000, 5000), {
      kind: "timeout",
      replicas: 1,
    });
    assert.deepEqual(
      decideFlush([streaming(null), { state: "backup", flush_lsn: null }], target, 6000, 5000),
      { kind: "timeout", replicas: 1 },
    );
  });

  it("says so when the role cannot see the positions (no pg_read_all_stats)", () => {
    assert.deepEqual(decideFlush([{ state: null, flush_lsn: null }], target, 0, 5000), {
      kind: "hidden",
      rows: 1,
    });
  });
});

/** A fake clock: sleep() advances it; each probe costs `probeMs`. */
function clock(probeMs = 1) {
  let t = 1000;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    probeCost: () => {
      t += probeMs;
    },
    slept,
  };
}

describe("waitForReplicaFlush", () => {
  it("reads the target once and polls until the replica reports it flushed", async () => {
    const c = clock();
    const flushes = ["0/100", "0/180", "0/1FF", "0/200"];
    let probes = 0;
    const result = await waitForReplicaFlush(
      async () => {
        c.probeCost();
        const flush = flushes[Math.min(probes, flushes.length - 1)] as string;
        const lsn = probes === 0 ? "0/200" : `0/${(0x300 + probes).toString(16)}`;
        probes++;
        return { lsn, replicas: [streaming(flush)] };
      },
      { maxWaitMs: 5000, pollMs: 2, now: c.now, sleep: c.sleep },
    );
    assert.equal(result.outcome, "flushed");
    assert.equal(result.lsn, "0/200", "the target is the position read right after the commit");
    assert.equal(result.probes, 4);
    assert.deepEqual(c.slept, [2, 2, 2]);
    assert.equal(result.waitedMs, 4 * 1 + 3 * 2);
    assert.equal(result.replicas, 1);
  });

  it("does not wait at all when no replica is connected", async () => {
    const c = clock();
    const result = await waitForReplicaFlush(async () => ({ lsn: "5/0", replicas: [] }), {
      maxWaitMs: 5000,
      pollMs: 2,
      now: c.now,
      sleep: c.sleep,
    });
    assert.equal(result.outcome, "no-replica");
    assert.equal(result.probes, 1);
    assert.deepEqual(c.slept, []);
  });

  it("gives up at the bound, never sleeping past it", async () => {
    const c = clock(0);
    const result = await waitForReplicaFlush(
      async () => ({ lsn: "0/200", replicas: [streaming("0/100")] }),
      { maxWaitMs: 25, pollMs: 10, now: c.now, sleep: c.sleep },
    );
    assert.equal(result.outcome, "timeout");
    assert.deepEqual(c.slept, [10, 10, 5]);
    assert.equal(result.waitedMs, 25);
    assert.equal(result.probes, 4);
  });

  it("lets a probe's error through (the batch is retried)", async () => {
    const c = clock();
    let probes = 0;
    await assert.rejects(
      waitForReplicaFlush(
        async () => {
          if (probes++ > 0) throw new Error("terminating connection due to administrator command");
          return { lsn: "0/200", replicas: [streaming("0/100")] };
        },
        { maxWaitMs: 5000, pollMs: 2, now: c.now, sleep: c.sleep },
      ),
      /administrator command/,
    );
  });
});

const message = (uid: string): MessagePayload => ({
  message_uid: uid,
  timestamp: "2026-01-01T00:00:00Z",
  hostname: "w1",
  body: uid,
});

/**
 * A pool of fake sessions: each query is answered by `script` (the INSERT with the new uids, the
 * probe with a position and rows), or fails with the error it returns. A session is an
 * EventEmitter like pg's: an 'error' event nobody listens to throws (in pg: ends the process).
 */
function fakePool(
  script: (sql: string, call: number, session: EventEmitter) => ReplicationProbe | string[] | Error,
) {
  const releases: (Error | boolean | undefined)[] = [];
  let calls = 0;
  const pool: SessionPool = {
    async connect() {
      const session = Object.assign(new EventEmitter(), {
        async query<R extends object>(text: string): Promise<{ rows: R[] }> {
          const answer = script(text, calls++, session);
          if (answer instanceof Error) throw answer;
          if (Array.isArray(answer)) {
            return { rows: answer.map((message_uid) => ({ message_uid })) as unknown as R[] };
          }
          return { rows: [answer as unknown as R] };
        },
        release(destroy?: Error | boolean) {
          releases.push(destroy);
          assert.equal(session.listenerCount("error"), 0, "released without a listener left");
        },
      });
      return session;
    },
  };
  return { pool, releases };
}

const pgError = (message: string, code?: string): Error =>
  Object.assign(new Error(message), code ? { code } : {});

describe("insertMessagesDurably", () => {
  const wait = { maxWaitMs: 50, pollMs: 1 };

  it("waits on the committing session and returns the new uids once a replica flushed", async () => {
    const sqls: string[] = [];
    const { pool, releases } = fakePool((sql, call) => {
      sqls.push(sql.trim().split(/\s+/).slice(0, 2).join(" "));
      if (call === 0) return ["a"];
      return { lsn: "0/200", replicas: [streaming(call >= 3 ? "0/200" : "0/100")] };
    });
    const results: string[] = [];
    const inserted = await insertMessagesDurably(
      pool,
      [message("a"), message("b")],
      "w1",
      wait,
      (r) => results.push(`${r.outcome} after ${r.probes} probes`),
    );
    assert.deepEqual([...inserted], ["a"]);
    assert.deepEqual(sqls, [
      "INSERT INTO",
      "SELECT pg_current_wal_flush_lsn()::text",
      "SELECT pg_current_wal_flush_lsn()::text",
      "SELECT pg_current_wal_flush_lsn()::text",
    ]);
    assert.deepEqual(results, ["flushed after 3 probes"]);
    assert.deepEqual(releases, [undefined], "a healthy session goes back into the pool");
  });

  it("fails a batch no connected replica flushed in time, naming the rows it inserted", async () => {
    const { pool, releases } = fakePool((_sql, call) =>
      call === 0 ? ["a", "b"] : { lsn: "0/200", replicas: [streaming("0/100")] },
    );
    const error = await insertMessagesDurably(pool, [message("a"), message("b")], "w1", wait).then(
      () => assert.fail("expected a ReplicaFlushError"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ReplicaFlushError);
    assert.equal(error.result.outcome, "timeout");
    assert.deepEqual([...error.insertedUids], ["a", "b"]);
    assert.match(error.message, /no replica flushed the batch's WAL \(up to 0\/200\) within/);
    assert.deepEqual(releases, [undefined], "the session itself is fine");
  });

  it("fails, naming the grant, when the role cannot see the replicas' positions", async () => {
    const { pool } = fakePool((_sql, call) =>
      call === 0 ? ["a"] : { lsn: "0/200", replicas: [{ state: null, flush_lsn: null }] },
    );
    await assert.rejects(
      insertMessagesDurably(pool, [message("a")], "w1", wait),
      /grant it pg_read_all_stats/,
    );
  });

  it("proceeds with no replica connected", async () => {
    const { pool } = fakePool((_sql, call) =>
      call === 0 ? ["a"] : { lsn: "0/200", replicas: [] },
    );
    const results: string[] = [];
    const inserted = await insertMessagesDurably(pool, [message("a")], "w1", wait, (r) =>
      results.push(r.outcome),
    );
    assert.deepEqual([...inserted], ["a"]);
    assert.deepEqual(results, ["no-replica"]);
  });

  it("hears a session's connection error between two looks and destroys the session", async () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const { pool, releases } = fakePool((_sql, call, session) => {
      if (call === 0) return ["a"];
      if (call === 1) {
        // HAProxy cuts the session while the consumer sleeps between two looks.
        setImmediate(() => session.emit("error", reset));
        return { lsn: "0/200", replicas: [streaming("0/100")] };
      }
      return new Error("Client has encountered a connection error and is not queryable");
    });
    await assert.rejects(
      insertMessagesDurably(pool, [message("a")], "w1", { maxWaitMs: 1000, pollMs: 5 }),
      /not queryable/,
    );
    assert.equal(releases.length, 1);
    assert.ok(releases[0] instanceof Error, "destroyed");
  });

  // What a failover throws at each step: HAProxy's shutdown-sessions, a fast shutdown, a node
  // being demoted or still recovering. Each one destroys the session and reaches the caller.
  const failoverErrors = [
    pgError("terminating connection due to administrator command", "57P01"),
    Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
    new Error("Connection terminated unexpectedly"),
    pgError("cannot execute INSERT in a read-only transaction", "25006"),
    pgError("the database system is in recovery mode", "57P03"),
    pgError("recovery is in progress", "55000"),
  ];
  for (const [step, failingCall] of [
    ["the insert (its commit)", 0],
    ["the position read after the commit", 1],
    ["a look at pg_stat_replication during the wait", 2],
  ] as const) {
    it(`destroys the session and rethrows when ${step} fails`, async () => {
      for (const failure of failoverErrors) {
        const { pool, releases } = fakePool((_sql, call) => {
          if (call === failingCall) return failure;
          return call === 0 ? ["a"] : { lsn: "0/200", replicas: [streaming("0/100")] };
        });
        await assert.rejects(
          insertMessagesDurably(pool, [message("a")], "w1", { maxWaitMs: 1000, pollMs: 1 }),
          (e) => e === failure,
        );
        assert.deepEqual(releases, [failure], `${failure.message}: released with the error`);
      }
    });
  }
});

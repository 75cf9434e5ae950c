import * as assert from "assert";
import { pgFailoverTrialChecks } from "../../scripts/drill/conditions";
import {
  longestCommitGapS,
  parseCommitAttempts,
  pgFailoverTrials,
  twoWriters,
  writerAtEnd,
  writesBackS,
  type CommitAttempt,
} from "../../scripts/drill/pgFailover/plan";
import type { FaultRun, PgFailoverTrial } from "../../scripts/drill/types";

const T = 1_000_000;
/** Attempts every 100 ms from T, each 20 ms long; `failed` lists the n that failed. */
function attempts(count: number, failed: (n: number) => boolean): CommitAttempt[] {
  return Array.from({ length: count }, (_, n) => ({
    n,
    uid: `u${n}`,
    t0: T + n * 100,
    t1: T + n * 100 + 20,
    ok: !failed(n),
    err: failed(n) ? "boom" : "",
  }));
}

describe("drill scenario 14: PostgreSQL failover (pure parts)", () => {
  it("plans each fault kind per trial, interleaved", () => {
    assert.deepStrictEqual(
      pgFailoverTrials(2).map((t) => t.id),
      [
        "pg-sigkill-1",
        "pg-stop-1",
        "pg-link-down-1",
        "pg-sigkill-2",
        "pg-stop-2",
        "pg-link-down-2",
      ],
    );
    assert.throws(() => pgFailoverTrials(0), /bad trial count 0/);
  });

  it("reads the probe's JSON lines, skipping a torn last line and other output", () => {
    const text = [
      '{"n":1,"uid":"b","t0":5,"t1":6,"ok":false,"err":"x"}',
      "some warning",
      '{"n":0,"uid":"a","t0":1,"t1":2,"ok":true,"err":""}',
      '{"n":2,"uid":"c","t0":7,',
    ].join("\n");
    assert.deepStrictEqual(
      parseCommitAttempts(text).map((a) => [a.n, a.ok]),
      [
        [0, true],
        [1, false],
      ],
    );
  });

  it("times writes back from the fault to the first success after the last failure", () => {
    // fault at attempt 10's start; attempts 12-80 fail; 81 is the first success after them
    const a = attempts(120, (n) => n >= 12 && n <= 80);
    assert.strictEqual(writesBackS(a, T + 1000), (8100 + 20 - 1000) / 1000);
    // no failure after the fault: the first success ending after it
    assert.strictEqual(
      writesBackS(
        attempts(20, () => false),
        T + 1000,
      ),
      0.02,
    );
    // never back
    assert.strictEqual(
      writesBackS(
        attempts(20, (n) => n >= 5),
        T + 600,
      ),
      null,
    );
    // a failure before the fault does not count
    assert.strictEqual(
      writesBackS(
        attempts(20, (n) => n === 2),
        T + 1000,
      ),
      0.02,
    );
  });

  it("measures the longest stretch without a commit from the fault on", () => {
    const a = attempts(100, (n) => n >= 10 && n <= 39);
    assert.strictEqual(longestCommitGapS(a, T + 950), (4020 - 950) / 1000);
  });

  it("counts the polls with two writable nodes and names the writer at the end", () => {
    const s = (at: number, pg1: boolean | null, pg2: boolean | null) => ({
      at,
      writable: { pg1, pg2 },
    });
    const samples = [s(0, true, false), s(200, true, true), s(400, true, true), s(600, null, true)];
    assert.deepStrictEqual(twoWriters(samples), { polls: 2, longestMs: 200 });
    assert.deepStrictEqual(twoWriters([s(0, true, false), s(200, null, true)]), {
      polls: 0,
      longestMs: 0,
    });
    assert.strictEqual(writerAtEnd(samples), "pg2");
    assert.strictEqual(writerAtEnd([s(0, false, false)]), null);
  });

  it("holds each trial to its bars, the committed rows only when synchronous", () => {
    const run = {
      acked: 100,
      stored: 100,
      missing: [],
      duplicates: 0,
      load: { requests: 100, errors: 0, non2xx: 0 },
    } as unknown as FaultRun;
    const good: PgFailoverTrial = {
      id: "pg-stop-1",
      kind: "stop",
      trial: 1,
      primaryBefore: "pg1",
      primaryAfter: "pg2",
      writesBackS: 7.9,
      commits: { attempts: 200, ok: 150, failedButStored: 0 },
      committedLost: 0,
      twoWriterPolls: 0,
      twoWriterLongestMs: 0,
      writerPolls: 100,
      rejoinedS: 12,
      after: { standbyStreaming: true, replicaIdentical: true, replicationDetail: "" },
      run,
      error: null,
    };
    const failing = (t: PgFailoverTrial, sync: boolean) =>
      pgFailoverTrialChecks(t, sync)
        .filter((c) => !c.pass)
        .map((c) => c.name);
    assert.deepStrictEqual(failing(good, true), []);
    assert.deepStrictEqual(failing({ ...good, writesBackS: 10.5, committedLost: 2 }, false), [
      "PG async stop #1: writes through HAProxy back within 10 s",
    ]);
    assert.deepStrictEqual(failing({ ...good, committedLost: 2, twoWriterPolls: 1 }, true), [
      "PG sync stop #1: never two writable nodes",
      "PG sync stop #1: every commit that returned is on the new primary (synchronous)",
    ]);
    assert.deepStrictEqual(failing({ ...good, run: undefined, error: "x" }, false), [
      "PG async stop #1: trial ran to the end",
    ]);
  });
});

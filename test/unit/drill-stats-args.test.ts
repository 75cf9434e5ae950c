import { strict as assert } from "node:assert";
import { parseDrillArgs, parseScenarioList } from "../../scripts/drill/args";
import { percentile, round, shares, summarize } from "../../scripts/drill/stats";

describe("drill stats", () => {
  it("takes nearest-rank percentiles", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(v, 50), 50);
    assert.equal(percentile(v, 99), 99);
    assert.equal(percentile(v, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([3, 1, 2], 50), 2);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile(v, 101), /p must be within 0..100 \(got 101\)/);
  });

  it("summarizes a sample and keeps NaN out of JSON", () => {
    const s = summarize([4, 1, 3, 2]);
    assert.deepEqual(s, { count: 4, min: 1, p50: 2, p99: 4, max: 4, mean: 2.5 });
    assert.equal(summarize([]).count, 0);
    assert.equal(round(NaN), null);
    assert.equal(round(2.345, 2), 2.35);
  });

  it("computes shares in percent", () => {
    assert.deepEqual(shares({ a: 1, b: 3 }), { a: 25, b: 75 });
    assert.deepEqual(shares({ a: 0 }), { a: 0 });
  });
});

describe("drill arguments", () => {
  it("applies the issue's defaults", () => {
    const o = parseDrillArgs(["--target", "sandbox"]);
    assert.equal(o.target, "sandbox");
    assert.deepEqual(o.scenarios, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(o.requests, 10000);
    assert.equal(o.concurrency, 32);
    assert.equal(o.sshUser, undefined, "each host's sshUser of the outputs unless overridden");
    assert.equal(o.scrapeWindowSeconds, 180);
    assert.equal(
      parseDrillArgs(["--target", "sandbox", "--scrape-window", "60"]).scrapeWindowSeconds,
      60,
    );
    assert.throws(
      () => parseDrillArgs(["--target", "sandbox", "--scrape-window", "10"]),
      /--scrape-window must be at least 30 \(got 10\)/,
    );
  });

  it("reads every flag and the SSH environment", () => {
    const o = parseDrillArgs(
      [
        "--target",
        "stack",
        "--outputs",
        "o.json",
        "--scenarios",
        "6,1,1",
        "--out",
        "r",
        "--requests",
        "500",
        "--concurrency",
        "8",
        "--write-rate",
        "20",
        "--fault-seconds",
        "30",
        "--kafka-trials",
        "1",
        "--ssh-option",
        "Port=2222",
      ],
      { DRILL_SSH_USER: "pve", DRILL_SSH_OPTIONS: "StrictHostKeyChecking=yes" },
    );
    assert.equal(o.target, "stack");
    assert.equal(o.outputsFile, "o.json");
    assert.deepEqual(o.scenarios, [1, 6]);
    assert.equal(o.outDir, "r");
    assert.equal(o.requests, 500);
    assert.equal(o.concurrency, 8);
    assert.equal(o.writeRate, 20);
    assert.equal(o.faultLoadSeconds, 30);
    assert.equal(o.kafkaTrials, 1);
    assert.equal(o.sshUser, "pve");
    assert.deepEqual(o.sshOptions, ["StrictHostKeyChecking=yes", "Port=2222"]);
  });

  it("names the bad value", () => {
    assert.throws(() => parseDrillArgs([]), /--target is required/);
    assert.throws(
      () => parseDrillArgs(["--target", "prod"]),
      /--target must be sandbox or stack \(got prod\)/,
    );
    assert.throws(
      () => parseDrillArgs(["--target", "sandbox", "--requests", "0"]),
      /--requests must be an integer in 1..1000000 \(got 0\)/,
    );
    assert.throws(() => parseDrillArgs(["--target", "sandbox", "--concurrency", "x"]), /\(got x\)/);
    assert.throws(
      () => parseDrillArgs(["--target", "sandbox", "--fault-seconds", "5"]),
      /at least 20 \(got 5\)/,
    );
    assert.throws(
      () => parseDrillArgs(["--target", "sandbox", "--bogus"]),
      /unknown argument --bogus/,
    );
    assert.throws(() => parseDrillArgs(["--target", "sandbox", "--out"]), /--out needs a value/);
    assert.throws(
      () => parseScenarioList("1,15"),
      /unknown scenario "15" \(valid: 1-14, hard-faults, host-loss, lb-pair, rolling-update, backup-restore, security, pg-failover; got 1,15\)/,
    );
  });
});

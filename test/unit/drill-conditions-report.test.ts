import { strict as assert } from "node:assert";
import {
  allChecks,
  failoverChecks,
  kafkaChecks,
  lbSplitChecks,
  observabilityChecks,
  replicationChecks,
  webWriteChecks,
} from "../../scripts/drill/conditions";
import { passingResults } from "../../scripts/drill/fixtures/results";
import { renderJsonReport, renderMarkdownReport } from "../../scripts/drill/report/markdown";
import type { Check } from "../../scripts/drill/types";

const failed = (checks: Check[]): string[] => checks.filter((c) => !c.pass).map((c) => c.name);

describe("drill pass conditions", () => {
  it("all pass on a healthy run", () => {
    const checks = allChecks(passingResults());
    assert.deepEqual(failed(checks), []);
    assert.deepEqual([...new Set(checks.map((c) => c.scenario))], [1, 2, 3, 4, 5, 6]);
  });

  it("scenario 1 fails on an uneven split, a failed request or a stranger node", () => {
    const r = passingResults().lbSplit!;
    r.sequential[1].servedBy = { webserver1: 4, webserver2: 2 };
    r.viaLb.servedBy = { webserver1: 6200, webserver2: 3700, webserver3: 100 };
    r.direct!.errors = 1;
    assert.deepEqual(failed(lbSplitChecks(r)), [
      "sequential trial 2: 6 requests split evenly, all successful",
      "load via the LB: each app node serves 50 % ± 10 points",
      "load direct to webserver1 (c=32): every request successful",
    ]);
    assert.match(lbSplitChecks(r)[4].detail, /unknown X-Served-By: webserver3/);
  });

  it("scenario 1 without the direct load (app port firewalled): no check for it, a row saying why", () => {
    const r = passingResults();
    r.lbSplit = { ...r.lbSplit!, direct: null };
    const names = lbSplitChecks(r.lbSplit).map((c) => c.name);
    assert.ok(!names.some((n) => n.includes("direct")), names.join("\n"));
    assert.match(renderMarkdownReport(r, allChecks(r)), /not run: containerFirewall/);
  });

  it("scenario 2 fails when a message is missing, misattributed or not on the admin page", () => {
    const r = passingResults().webWrite!;
    r.messages[0] = { ...r.messages[0], producedBy: "webserver2", onAdminPage: false };
    r.messages[1] = { ...r.messages[1], status: 503, producedBy: null, storedBy: null };
    assert.deepEqual(failed(webWriteChecks(r)), [
      "every form post accepted (2xx/3xx)",
      "every posted message stored",
      "produced_by = the node that answered the post (X-Served-By)",
      "stored_by names an app node",
      "every message shown on the admin page with its node names",
    ]);
  });

  it("scenario 3 fails on diverging rows, a slow standby or a standby that is not streaming", () => {
    const r = passingResults().replication!;
    r.standby = { ...r.standby, md5: "different" };
    r.trials[2].standbyMs = 1500;
    r.standbyState = "catchup";
    r.lagMsSamples = [5, 2000];
    assert.deepEqual(failed(replicationChecks(r)), [
      "standby is streaming",
      "primary and standby hold identical rows (count + md5)",
      "each trial message visible on the standby in < 1000 ms",
      "replay lag p99 under write load < 1000 ms",
    ]);
  });

  it("scenario 4 fails on a lost message, a duplicate, a short ISR or a missing voter", () => {
    const r = passingResults().kafka!;
    r.topic.partitions[0].isr = [2];
    r.quorum.voters = [1, 2];
    r.idempotency.rows = 52;
    r.trials[1].missing = ["0a1b2c3d-0005-4000-8000-000000000007"];
    r.trials[1].recoveryS = null;
    r.isrAfter = [2];
    assert.deepEqual(failed(kafkaChecks(r)), [
      "every partition has a leader and a full ISR",
      "KRaft quorum has 3 voters and a leader",
      "re-sent message_uids stored once",
      "Kafka trial 2: every acknowledged message stored (no data loss)",
      "Kafka trial 2: consumption resumed",
      "stopped brokers back in the ISR",
    ]);
  });

  it("scenario 5 fails on a down target or a scrape at its timeout", () => {
    const r = passingResults().observability!;
    r.targets[1].health = "down";
    r.scrape[0].maxMs = 10_000;
    assert.deepEqual(failed(observabilityChecks(r)), [
      "every Prometheus target up",
      "every job's slowest scrape within its scrape timeout",
    ]);
  });

  it("scenario 5 fails when the steady write load of its scrape window lost a request", () => {
    const r = passingResults().observability!;
    const load = {
      label: "scrape window",
      requests: 7200,
      ok: 7200,
      non2xx: 0,
      errors: 0,
      successPct: 100,
      p50Ms: 3,
      p99Ms: 12,
      rps: 40,
      durationS: 180,
      servedBy: { webserver1: 3600, webserver2: 3600 },
    };
    assert.deepEqual(failed(observabilityChecks({ ...r, load })), []);
    assert.deepEqual(
      failed(observabilityChecks({ ...r, load: { ...load, ok: 7199, errors: 1 } })),
      ["the steady write load of the scrape window: every request successful"],
    );
  });

  it("scenario 6 fails on a failed request, an accepted write, split brain or a lost message", () => {
    const r = passingResults().failover!;
    r.web!.load.non2xx = 2;
    r.pgFacts!.writeRefused = false;
    r.pgFacts!.writablePrimaries = [1, 2];
    r.kafka!.missing = ["x"];
    assert.deepEqual(failed(failoverChecks(r)), [
      "Failover: webserver1: no failed request during the fault",
      "PG primary down: writes refused with a clear error",
      "no split brain: never more than one writable PostgreSQL",
      "Failover: kafka1: every acknowledged message stored (no data loss)",
    ]);
  });

  it("a scenario that threw is a failed check", () => {
    const r = passingResults();
    r.errors[4] = "no running Kafka node to run the Kafka CLI on";
    const c = allChecks(r).filter((x) => !x.pass);
    assert.deepEqual(c, [
      {
        scenario: 4,
        name: "scenario ran to the end",
        pass: false,
        detail: "no running Kafka node to run the Kafka CLI on",
      },
    ]);
  });
});

describe("drill report", () => {
  it("puts our figures beside the paper's Tables 1-4", () => {
    const r = passingResults();
    const md = renderMarkdownReport(r, allChecks(r));
    assert.match(md, /\*\*Verdict: PASS\*\* — \d+ of \d+ pass conditions met/);
    for (const heading of [
      "Table 1",
      "Table 2",
      "Table 3",
      "Table 4",
      "Scenario 2",
      "Scenario 5",
      "Scenario 6",
    ]) {
      assert.match(md, new RegExp(`## ${heading}`));
    }
    assert.match(
      md,
      /\| 3 \| 10 \| 5 \| 5 \| 100 % \| – \| – \| – \| paper \(sequential curl\) \|/,
    );
    assert.match(
      md,
      /\| via LB \(c=32\) \| 10000 \| 5000 \| 5000 \| 100.0 % \| 4.0 ms \| 21.0 ms \| 1650 \|/,
    );
    assert.match(md, /\| 1 \| 2.32 ms \| < 1 s each \| 9 ms \| 60 ms \| 75 ms \| 100 % \|/);
    assert.match(md, /\| paper 2 \| heartbeat delay \| 2 \| 30 s \|/);
    assert.match(
      md,
      /\| ours 2 \| partition leader kafka1 stopped \| 37 \| 5.1 s \| 4.1 s \| 0.3 s \| 0 \| 1600 \/ 1600 \| none \|/,
    );
    assert.match(
      md,
      /\| kafka-jmx \| 1\/1 up \| 60 \| 0 \| 85.0 ms \| 131.0 ms \| 140.0 ms \| < 150 ms \| < 360 ms \| yes \| yes \|/,
    );
    assert.match(
      md,
      /\| Prometheus scrape \(non-JMX\) \| < 50 ms \| p99 18.0 ms \(node\) \/ max 19.0 ms \(node\) \|/,
    );
    assert.match(
      md,
      /\| JMX scrape \| < 360 ms \| p99 131.0 ms \(kafka-jmx\) \/ max 140.0 ms \(kafka-jmx\) \|/,
    );
    assert.match(
      md,
      /\| webserver CPU \| 27.8 % \| webserver1 31.5 %, webserver2 30.9 %, lb 22.4 % \|/,
    );
    assert.match(md, /1.55 ms CPU per stored message/);
    assert.match(md, /!\[Failover: kafka1\]\(timeline-failover-kafka1.png\)/);
    assert.doesNotMatch(md, /undefined|NaN/);
  });

  it("reports the scrape figures of the whole run, failed scrapes and p99 over our target", () => {
    const r = passingResults();
    const md = renderMarkdownReport(r, allChecks(r));
    const section = md.slice(md.indexOf("## Scrape durations over the whole run"));
    assert.match(section, /^## Scrape durations over the whole run \(fault drills included\)/);
    assert.match(
      section,
      /\| kafka-jmx \| 1 \| 34 \| 2 \| 88.0 ms \| 162.0 ms \| 162.0 ms \| < 150 ms \| < 360 ms \| no \| yes \|/,
    );
    assert.match(
      section,
      /\| node \| 1 \| 36 \| 0 \| 12.0 ms \| 24.0 ms \| 24.0 ms \| < 25 ms \| < 50 ms \| yes \| yes \|/,
    );
    assert.match(
      section,
      /Window 2026-11-24T20:00:00.000Z → 2026-11-24T20:09:00.000Z \(9 min, the whole run\)/,
    );
    // a benchmark figure: p99 over our target is reported, not a failed pass condition
    assert.deepEqual(failed(allChecks(r)), []);
    r.scrapeWholeRun!.windowS = 7200;
    r.scrapeWholeRun!.capped = true;
    assert.match(renderMarkdownReport(r, []), /\(120 min, the run's last part: capped\)/);
    r.scrapeWholeRun!.windowS = 1;
    r.scrapeWholeRun!.capped = false;
    assert.match(renderMarkdownReport(r, []), /\(1 s, the whole run\)/);
    delete r.scrapeWholeRun;
    assert.doesNotMatch(renderMarkdownReport(r, allChecks(r)), /over the whole run/);
  });

  it("says FAIL and lists the failing condition", () => {
    const r = passingResults();
    r.failover!.web!.load.errors = 3;
    const md = renderMarkdownReport(r, allChecks(r));
    assert.match(md, /\*\*Verdict: FAIL\*\*/);
    assert.match(
      md,
      /\| 6 \| Failover: webserver1: no failed request during the fault \| FAIL \| ok=1600\/1600, non-2xx=0, errors=3 \|/,
    );
  });

  it("renders only the scenarios that ran", () => {
    const r = passingResults();
    delete r.kafka;
    delete r.failover;
    const md = renderMarkdownReport(r, allChecks(r));
    assert.doesNotMatch(md, /## Table 3|## Scenario 6/);
    assert.match(md, /Kafka consumer lag max \| 2 msgs \| – \|/);
  });

  it("writes the same as JSON with the verdict and the paper's figures", () => {
    const r = passingResults();
    const json = JSON.parse(renderJsonReport(r, allChecks(r))) as Record<string, unknown>;
    assert.equal(json.verdict, "pass");
    assert.equal(json.failed, 0);
    assert.deepEqual(json.results, JSON.parse(JSON.stringify(r)));
    assert.equal((json.paper as { table4: { jmxScrapeMs: number } }).table4.jmxScrapeMs, 360);
  });
});

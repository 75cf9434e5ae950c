import { strict as assert } from "node:assert";
import { parseBenchScrapeArgs } from "../../scripts/drill/args";
import { exampleOutputs } from "../../scripts/drill/fixtures/example-outputs";
import { parseStackOutputs, refuseForeignEndpoints } from "../../scripts/drill/outputs";
import { parseQueryResult, type TargetHealth } from "../../scripts/drill/parse/prometheus";
import {
  formatScrapeLines,
  paperScrapeBoundMs,
  scrapeFigures,
  scrapeQueries,
  scrapeTargetMs,
  wholeRunWindow,
  worstScrape,
} from "../../scripts/drill/scrapeFigures";

/** A matrix answer of an instant query with a range selector, as Prometheus sends it. */
function matrix(
  name: string,
  series: Array<[string, string, Array<[number, string]>]>,
): ReturnType<typeof parseQueryResult> {
  return parseQueryResult({
    status: "success",
    data: {
      resultType: "matrix",
      result: series.map(([job, instance, values]) => ({
        metric: { __name__: name, job, instance, node: "n" },
        values,
      })),
    },
  });
}

function target(job: string, instance: string, timeoutS = 10): TargetHealth {
  return {
    job,
    instance,
    health: "up",
    lastError: "",
    scrapeTimeoutS: timeoutS,
    lastScrapeDurationS: 0.01,
  };
}

describe("drill scrape figures from raw samples", () => {
  const t0 = 1795557487.79;
  // kafka-jmx on two instances; one scrape of .17 failed (up 0, its duration is the timeout).
  const durations = matrix("scrape_duration_seconds", [
    [
      "kafka-jmx",
      "10.0.0.16:7071",
      [
        [t0, "0.020"],
        [t0 + 15, "0.030"],
        [t0 + 30, "0.100"],
      ],
    ],
    [
      "kafka-jmx",
      "10.0.0.17:7071",
      [
        [t0 + 0.4, "0.010"],
        [t0 + 15.4, "9.999"],
        [t0 + 30.4, "0.040"],
      ],
    ],
    // a duration without an up sample at its timestamp is left out
    ["node", "10.0.0.10:9100", [[t0 + 1, "0.005"]]],
    // every scrape of the postgres exporter failed
    ["postgres", "10.0.0.13:9187", [[t0 + 2, "0.002"]]],
  ]);
  const up = matrix("up", [
    [
      "kafka-jmx",
      "10.0.0.16:7071",
      [
        [t0, "1"],
        [t0 + 15, "1"],
        [t0 + 30, "1"],
      ],
    ],
    [
      "kafka-jmx",
      "10.0.0.17:7071",
      [
        [t0 + 0.4, "1"],
        [t0 + 15.4, "0"],
        [t0 + 30.4, "1"],
      ],
    ],
    ["node", "10.0.0.10:9100", [[t0 + 1.001, "1"]]],
    [
      "postgres",
      "10.0.0.13:9187",
      [
        [t0 + 2, "0"],
        [t0 + 17, "0"],
      ],
    ],
  ]);
  const targets = [
    target("kafka-jmx", "10.0.0.16:7071"),
    target("kafka-jmx", "10.0.0.17:7071", 5),
    target("node", "10.0.0.10:9100"),
    target("postgres", "10.0.0.13:9187"),
    target("app", "10.0.0.11:3000"),
  ];

  it("joins durations with up per job, instance and timestamp; counts failed scrapes apart", () => {
    const figs = scrapeFigures(durations, up, targets);
    assert.deepEqual(
      figs.map((f) => f.job),
      ["app", "kafka-jmx", "node", "postgres"],
    );
    const jmx = figs.find((f) => f.job === "kafka-jmx")!;
    assert.equal(jmx.targets, 2);
    assert.equal(jmx.samples, 5);
    assert.equal(jmx.failed, 1);
    // successful: 10, 20, 30, 40, 100 ms (the failed 9999 ms scrape is not among them)
    assert.equal(Math.round(jmx.p50Ms! * 1000) / 1000, 30);
    assert.equal(Math.round(jmx.p99Ms! * 1000) / 1000, 100);
    assert.equal(Math.round(jmx.maxMs! * 1000) / 1000, 100);
    assert.equal(jmx.timeoutMs, 5000);
  });

  it("gives null percentiles to a job without a successful scrape", () => {
    const figs = scrapeFigures(durations, up, targets);
    assert.deepEqual(
      figs.find((f) => f.job === "postgres"),
      {
        job: "postgres",
        targets: 1,
        samples: 0,
        failed: 2,
        p50Ms: null,
        p99Ms: null,
        maxMs: null,
        timeoutMs: 10_000,
      },
    );
    // node: its only up sample is 1 ms off the duration's timestamp, so nothing joins
    assert.equal(figs.find((f) => f.job === "node")!.samples, 0);
    // app: an active target without any sample yet
    assert.deepEqual(
      (({ samples, failed, p99Ms }) => ({ samples, failed, p99Ms }))(
        figs.find((f) => f.job === "app")!,
      ),
      { samples: 0, failed: 0, p99Ms: null },
    );
  });

  it("keeps a job that has samples but no active target any more", () => {
    const figs = scrapeFigures(durations, up, []);
    const jmx = figs.find((f) => f.job === "kafka-jmx")!;
    assert.deepEqual([jmx.targets, jmx.samples, jmx.timeoutMs], [0, 5, null]);
  });

  it("takes p99 over every sample, not a sampled subset", () => {
    const n = 200;
    const values: Array<[number, string]> = Array.from({ length: n }, (_, i) => [
      t0 + 15 * i,
      String((i + 1) / 1000),
    ]);
    const ups: Array<[number, string]> = values.map(([t]) => [t, "1"]);
    const [f] = scrapeFigures(
      matrix("scrape_duration_seconds", [["node", "a", values]]),
      matrix("up", [["node", "a", ups]]),
      [target("node", "a")],
    );
    assert.equal(f.samples, 200);
    assert.equal(Math.round(f.p99Ms!), 198);
    assert.equal(Math.round(f.maxMs!), 200);
  });

  it("builds the instant queries and refuses a window that is not whole seconds", () => {
    assert.deepEqual(scrapeQueries(900), {
      durations: "scrape_duration_seconds[900s]",
      up: "up[900s]",
    });
    assert.throws(() => scrapeQueries(0), /whole number of seconds >= 1 \(got 0\)/);
    assert.throws(() => scrapeQueries(1.5), /got 1.5/);
  });

  it("states our p99 targets and the paper's bounds per job", () => {
    assert.deepEqual(
      ["kafka-jmx", "node", "app"].map((j) => [scrapeTargetMs(j), paperScrapeBoundMs(j)]),
      [
        [150, 360],
        [25, 50],
        [25, 50],
      ],
    );
  });

  it("finds the worst JMX and non-JMX job", () => {
    const figs = scrapeFigures(durations, up, targets);
    assert.deepEqual(worstScrape(figs, true), {
      p99: ["kafka-jmx", figs[1].p99Ms],
      max: ["kafka-jmx", figs[1].maxMs],
    });
    assert.deepEqual(worstScrape(figs, false), { p99: null, max: null });
  });

  it("prints one aligned line per job", () => {
    const lines = formatScrapeLines(scrapeFigures(durations, up, targets));
    assert.equal(
      lines[1],
      "kafka-jmx  targets 2  samples 5  failed 1  p50 30.0 ms  p99 100.0 ms  max 100.0 ms",
    );
    assert.equal(lines[3], "postgres   targets 1  samples 0  failed 2  p50 –  p99 –  max –");
  });

  it("covers the whole run rounded up to whole seconds, capped", () => {
    assert.deepEqual(wholeRunWindow(1_000, 62_001), {
      windowS: 62,
      capped: false,
      fromMs: 1,
    });
    assert.deepEqual(wholeRunWindow(5_000, 5_000), { windowS: 1, capped: false, fromMs: 4_000 });
    assert.deepEqual(wholeRunWindow(0, 3 * 3600_000), {
      windowS: 7200,
      capped: true,
      fromMs: 3600_000,
    });
    assert.throws(() => wholeRunWindow(10, 5), /end must not precede start \(got 10 → 5\)/);
  });
});

describe("drill scrape benchmark arguments", () => {
  it("reads the target, outputs file and window", () => {
    assert.deepEqual(parseBenchScrapeArgs(["--target", "sandbox"]), {
      target: "sandbox",
      minutes: 15,
    });
    assert.deepEqual(
      parseBenchScrapeArgs(["--target", "stack", "--outputs", "o.json", "--minutes", "120"]),
      { target: "stack", outputsFile: "o.json", minutes: 120 },
    );
  });

  it("names the bad value", () => {
    assert.throws(() => parseBenchScrapeArgs([]), /--target is required/);
    assert.throws(
      () => parseBenchScrapeArgs(["--target", "prod"]),
      /--target must be sandbox or stack \(got prod\)/,
    );
    assert.throws(
      () => parseBenchScrapeArgs(["--target", "sandbox", "--minutes", "0"]),
      /--minutes must be an integer in 1\.\.1440 \(got 0\)/,
    );
    assert.throws(
      () => parseBenchScrapeArgs(["--target", "sandbox", "--minutes", "ten"]),
      /\(got ten\)/,
    );
    assert.throws(
      () => parseBenchScrapeArgs(["--target", "sandbox", "--minutes"]),
      /--minutes needs a value/,
    );
    assert.throws(
      () => parseBenchScrapeArgs(["--target", "sandbox", "--scenarios", "5"]),
      /unknown argument --scenarios/,
    );
  });

  it("refuses a Prometheus URL outside the stack's nodes, and only checks what it uses", () => {
    const raw = exampleOutputs();
    const ok = parseStackOutputs(JSON.stringify({ ...raw, lbUrl: "http://192.0.2.1/" }));
    assert.throws(() => refuseForeignEndpoints(ok), /outside the stack's nodes: http:\/\/192/);
    refuseForeignEndpoints(ok, [ok.prometheusUrl]);
    const bad = parseStackOutputs(
      JSON.stringify({ ...raw, prometheusUrl: "http://192.0.2.9:9090" }),
    );
    assert.throws(
      () => refuseForeignEndpoints(bad, [bad.prometheusUrl]),
      /refusing to send traffic to endpoints outside the stack's nodes: http:\/\/192.0.2.9:9090/,
    );
  });
});

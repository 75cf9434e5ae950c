import { afterRestoreS } from "../alertTimeline";
import { PAPER } from "../paper";
import { percentile } from "../stats";
import {
  paperScrapeBoundMs,
  SCRAPE_P99_TARGET_MS,
  scrapeTargetMs,
  worstScrape,
} from "../scrapeFigures";
import type { Check, DrillResults, FaultRun, LoadSummary, ScrapeFigure } from "../types";
import { ms, num, pct, table, yesNo } from "./format";
import { hardFaultsSection } from "./hardFaults";
import { hostLossSection } from "./hostLoss";
import { lbPairSection } from "./lbPair";
import { pgFailoverSection } from "./pgFailover";
import { restoreSection } from "./restore";
import { securitySection } from "../security/result";
import { rollingSection } from "./rolling";

function loadRow(l: LoadSummary, nodes: readonly string[], source: string): string[] {
  return [
    l.label,
    String(l.requests),
    ...nodes.map((n) => String(l.servedBy[n] ?? 0)),
    pct(l.successPct),
    ms(l.p50Ms),
    ms(l.p99Ms),
    num(l.rps, 0),
    source,
  ];
}

function table1(r: DrillResults): string[] {
  const s = r.lbSplit;
  if (!s) return [];
  const nodes = s.appNodes;
  const header = ["trial", "requests", ...nodes, "success", "p50", "p99", "req/s", "source"];
  const rows: string[][] = PAPER.table1.map((p) => [
    String(p.trial),
    String(p.requests),
    String(p.node1),
    String(p.node2),
    ...nodes.slice(2).map(() => "–"),
    pct(p.successPct, 0),
    "–",
    "–",
    "–",
    "paper (sequential curl)",
  ]);
  for (const t of s.sequential) {
    rows.push([
      String(t.trial),
      String(t.requests),
      ...nodes.map((n) => String(t.servedBy[n] ?? 0)),
      pct((100 * t.ok) / t.requests),
      "–",
      "–",
      "–",
      "ours (sequential)",
    ]);
  }
  rows.push(loadRow(s.viaLb, nodes, "ours (autocannon via LB)"));
  if (s.direct) rows.push(loadRow(s.direct, nodes, "ours (autocannon direct, no LB)"));
  else {
    rows.push([
      "not run: containerFirewall lets only the LBs and the monitor reach the app port",
      ...nodes.map(() => "–"),
      "–",
      "–",
      "ours (direct, no LB)",
    ]);
  }
  return ["## Table 1 — Nginx load balancing (scenario 1)", "", table(header, rows), ""];
}

function scenario2(r: DrillResults): string[] {
  const w = r.webWrite;
  if (!w) return [];
  return [
    "## Scenario 2 — web write path (form post → Kafka → PostgreSQL → admin page)",
    "",
    table(
      ["message_uid", "HTTP", "answered by", "produced_by", "stored_by", "on /admin"],
      w.messages.map((m) => [
        m.uid,
        String(m.status),
        m.servedBy,
        m.producedBy ?? "–",
        m.storedBy ?? "–",
        yesNo(m.onAdminPage),
      ]),
    ),
    "",
    `Admin page served by: ${w.adminServedBy.join(", ") || "–"}; all messages seen after ${num(w.waitedMs / 1000)} s.`,
    "",
  ];
}

function table2(r: DrillResults): string[] {
  const x = r.replication;
  if (!x) return [];
  const rows = x.trials.map((t, i) => [
    String(t.trial),
    `${PAPER.table2.cpuSpikeMs[i] ?? "–"} ms`,
    PAPER.table2.latency,
    ms(t.ackMs, 0),
    ms(t.primaryMs, 0),
    ms(t.standbyMs, 0),
    x.primary.md5 === x.standby.md5 && x.primary.count === x.standby.count ? "100 %" : "MISMATCH",
  ]);
  return [
    "## Table 2 — PostgreSQL streaming replication (scenario 3)",
    "",
    table(
      [
        "trial",
        "paper: CPU spike",
        "paper: latency",
        "ours: POST→202",
        "ours: POST→row on primary",
        "ours: POST→row on standby",
        "integrity",
      ],
      rows,
    ),
    "",
    `Visibility is polled through \`pct exec … psql\`; resolution ≈ ${num(x.pollResolutionMs, 0)} ms per poll.`,
    "",
    table(
      ["figure", "paper", "ours"],
      [
        ["standby state", PAPER.table2.state, x.standbyState ?? "–"],
        ["sync_state", PAPER.table2.syncState, x.syncState ?? "–"],
        [
          "integrity (rows, md5)",
          `${PAPER.table2.integrityPct} %`,
          `primary ${x.primary.count} rows ${x.primary.md5.slice(0, 12)} / standby ${x.standby.count} rows ${x.standby.md5.slice(0, 12)}`,
        ],
        [
          "write load",
          "single inserts",
          `${x.load.requests} POSTs at ${num(x.load.rps, 0)} req/s, ${pct(x.load.successPct)} ok`,
        ],
        [
          "replay lag p50 / p99 under load",
          "–",
          x.lagMsSamples.length
            ? `${ms(percentile(x.lagMsSamples, 50), 2)} / ${ms(percentile(x.lagMsSamples, 99), 2)} (${x.lagMsSamples.length} samples)`
            : "none reported",
        ],
        [
          "replay lag bytes p50 / max",
          "–",
          x.lagBytesSamples.length
            ? `${percentile(x.lagBytesSamples, 50)} / ${Math.max(...x.lagBytesSamples)} B`
            : "–",
        ],
      ],
    ),
    "",
  ];
}

function faultRow(run: FaultRun, trial: string): string[] {
  return [
    trial,
    run.trigger,
    String(run.maxLag),
    run.recoveryS === null ? "not resumed" : `${num(run.recoveryS)} s`,
    `${num(run.pauseS)} s`,
    `${num(run.ackGapS)} s`,
    String(run.load.non2xx + run.load.errors),
    `${run.acked} / ${run.stored}`,
    run.missing.length === 0 ? "none" : `${run.missing.length} lost`,
  ];
}

function timelineLinks(runs: ReadonlyArray<FaultRun | null | undefined>): string[] {
  const out: string[] = [];
  for (const run of runs) {
    if (run?.timelinePng) out.push(`![${run.name}](${run.timelinePng})`, "");
    else if (run?.timelineSvg) out.push(`![${run.name}](${run.timelineSvg})`, "");
  }
  return out;
}

function table3(r: DrillResults): string[] {
  const k = r.kafka;
  if (!k) return [];
  const header = [
    "trial",
    "trigger",
    "max lag (msgs)",
    "recovery",
    "consumer pause",
    "no-ack gap",
    "failed requests",
    "acked / stored",
    "data loss",
  ];
  const rows: string[][] = PAPER.table3.map((p) => [
    `paper ${p.trial}`,
    p.trigger,
    String(p.maxLag),
    `${p.recoveryS} s`,
    "–",
    "–",
    "–",
    "–",
    p.dataLoss,
  ]);
  k.trials.forEach((t, i) => rows.push(faultRow(t, `ours ${i + 1}`)));
  const p0 = k.topic.partitions[0];
  return [
    "## Table 3 — Kafka failover and zero data loss (scenario 4)",
    "",
    table(header, rows),
    "",
    "Recovery = from the fault until consumption resumed (end of the longest consumer pause after it; 0 s when no pause over 1.5 s); consumer pause = longest time the stored count stood still with a backlog (sampled every second); no-ack gap = longest time after the fault without an acknowledged (HTTP 202) request, the producer side of the outage; failed requests = non-2xx answers and timeouts (not acknowledged, so the client knows to retry).",
    "",
    table(
      ["figure", "paper", "ours"],
      [
        ["PartitionCount", String(PAPER.topic.partitionCount), String(k.topic.partitionCount)],
        [
          "ReplicationFactor",
          String(PAPER.topic.replicationFactor),
          String(k.topic.replicationFactor),
        ],
        [
          "ISR",
          PAPER.topic.isr,
          p0 ? `${p0.isr.join(",")} of replicas ${p0.replicas.join(",")}` : "–",
        ],
        ["KRaft voters / leader", "–", `${k.quorum.voters.join(",")} / ${k.quorum.leaderId}`],
        [
          "idempotency",
          "duplicates skipped",
          `${k.idempotency.sent} sent + ${k.idempotency.resent} re-sent → ${k.idempotency.rows} rows (${k.idempotency.distinct} distinct); duplicates skipped +${k.idempotency.duplicatesSkippedDelta ?? "?"}`,
        ],
      ],
    ),
    "",
    ...timelineLinks(k.trials),
  ];
}

/** One row per job: counts, p50/p99/max, our p99 target and the paper's bound (both on p99). */
function scrapeTable(
  figures: readonly ScrapeFigure[],
  targets: (s: ScrapeFigure) => string,
): string {
  return table(
    [
      "job",
      "targets",
      "scrapes",
      "failed",
      "p50",
      "p99",
      "max",
      "our target (p99)",
      "paper bound",
      "within target",
      "within paper",
    ],
    figures.map((s) => {
      const p99 = s.p99Ms ?? null;
      return [
        s.job,
        targets(s),
        num(s.samples),
        num(s.failed),
        ms(s.p50Ms),
        ms(p99),
        ms(s.maxMs),
        `< ${scrapeTargetMs(s.job)} ms`,
        `< ${paperScrapeBoundMs(s.job)} ms`,
        yesNo(p99 === null ? null : p99 < scrapeTargetMs(s.job)),
        yesNo(p99 === null ? null : p99 < paperScrapeBoundMs(s.job)),
      ];
    }),
  );
}

const SCRAPE_NOTE = `Every scrape in the window from Prometheus' raw samples of \`scrape_duration_seconds\`, each joined with its \`up\` sample (same job, instance, timestamp): percentiles (nearest rank, so with at most 100 scrapes p99 is the max) are over successful scrapes only; failed = scrapes with \`up\` 0 (a failed scrape's duration says nothing of cost). Our target (p99 < ${SCRAPE_P99_TARGET_MS.jmx} ms JMX, < ${SCRAPE_P99_TARGET_MS.other} ms others) and the paper's bounds (< ${PAPER.table4.jmxScrapeMs} ms / < ${PAPER.table4.promScrapeMs} ms) are compared with the p99; reported, not pass conditions.`;

/** A window length: seconds under two minutes, else minutes. */
function windowText(windowS: number): string {
  return windowS < 120 ? `${windowS} s` : `${num(windowS / 60)} min`;
}

function scenario5(r: DrillResults): string[] {
  const o = r.observability;
  if (!o) return [];
  const byJob = new Map<string, { up: number; total: number }>();
  for (const t of o.targets) {
    const e = byJob.get(t.job) ?? { up: 0, total: 0 };
    e.total++;
    if (t.health === "up") e.up++;
    byJob.set(t.job, e);
  }
  return [
    "## Scenario 5 — observability: targets and scrape durations",
    "",
    scrapeTable(o.scrape, (s) => {
      const e = byJob.get(s.job) ?? { up: 0, total: 0 };
      return `${e.up}/${e.total} up`;
    }),
    "",
    `${o.load ? `Scrapes taken during a steady write load through the LB (${o.load.ok}/${o.load.requests} requests successful at ${num(o.load.rps)} req/s) of ${windowText(o.windowS)}` : `Scrapes of the last ${windowText(o.windowS)}`} (scenario 5 runs before the fault drills). ${SCRAPE_NOTE}`,
    "",
  ];
}

function scrapeWholeRun(r: DrillResults): string[] {
  const w = r.scrapeWholeRun;
  if (!w) return [];
  return [
    "## Scrape durations over the whole run (fault drills included)",
    "",
    scrapeTable(w.scrape, (s) => String(s.targets)),
    "",
    `Window ${w.from} → ${w.to} (${windowText(w.windowS)}, ${w.capped ? "the run's last part: capped" : "the whole run"}), figures as in scenario 5: the scrapes that failed while the drills had containers stopped are counted, not timed.`,
    "",
  ];
}

function table4(r: DrillResults): string[] {
  const o = r.observability;
  const k = r.kafka;
  const x = r.replication;
  if (!o && !k && !x) return [];
  const p = PAPER.table4;
  const scrapeWorst = (jmx: boolean): string => {
    const w = worstScrape(o?.scrape ?? [], jmx);
    const part = (label: string, v: [string, number] | null): string =>
      v ? `${label} ${ms(v[1])} (${v[0]})` : `${label} –`;
    return w.p99 || w.max ? `${part("p99", w.p99)} / ${part("max", w.max)}` : "–";
  };
  const cpu = Object.entries(r.lbSplit?.cpuPct ?? {})
    .map(([n, v]) => `${n} ${pct(v)}`)
    .join(", ");
  const load1 = Object.entries(o?.load1Max ?? {})
    .map(([n, v]) => `${n} ${num(v, 2)}`)
    .join(", ");
  const lagMax = k && k.trials.length ? Math.max(...k.trials.map((t) => t.maxLag)) : null;
  return [
    "## Table 4 — resource efficiency",
    "",
    table(
      ["figure", "paper", "ours", "note"],
      [
        [
          "webserver CPU",
          pct(p.webserverCpuPct),
          cpu || "–",
          "container CPU time during the scenario-1 load via the LB (cgroup accounting, else the sum over the container's processes), % of one core",
        ],
        [
          "system load",
          pct(p.systemLoadPct),
          load1 || "–",
          "max node_load1 over the scenario-5 window (an LXC container reports the host's load)",
        ],
        [
          "PostgreSQL CPU spike",
          ms(p.pgCpuSpikeMs, 2),
          x?.pgCpuMsPerWrite != null
            ? `${ms(x.pgCpuMsPerWrite, 2)} CPU per stored message (${pct(x.pgCpuPct)} of one core)`
            : "–",
          "primary container CPU during the scenario-3 write load, divided by the messages written",
        ],
        [
          "Prometheus scrape (non-JMX)",
          `< ${p.promScrapeMs} ms`,
          scrapeWorst(false),
          `worst job's p99 and slowest successful scrape, scenario-5 window; our target p99 < ${SCRAPE_P99_TARGET_MS.other} ms`,
        ],
        [
          "JMX scrape",
          `< ${p.jmxScrapeMs} ms`,
          scrapeWorst(true),
          `worst job's p99 and slowest successful scrape, scenario-5 window; our target p99 < ${SCRAPE_P99_TARGET_MS.jmx} ms`,
        ],
        [
          "Kafka consumer lag max",
          `${p.consumerLagMax} msgs`,
          lagMax === null ? "–" : `${lagMax} msgs`,
          "acknowledged but not yet stored, scenario 4",
        ],
        [
          "replication replay lag p99",
          "< 1 s",
          x && x.lagMsSamples.length ? ms(percentile(x.lagMsSamples, 99), 2) : "–",
          "scenario 3",
        ],
      ],
    ),
    "",
  ];
}

function scenario6(r: DrillResults): string[] {
  const f = r.failover;
  if (!f) return [];
  const runs = [f.web, f.pg, f.kafka].filter((x): x is FaultRun => x !== null);
  const rows = runs.map((run) => [
    run.name,
    run.stopped ?? "–",
    `${run.load.requests} (${pct(run.load.successPct)} ok, ${run.load.non2xx + run.load.errors} failed)`,
    `${run.acked} / ${run.stored}`,
    String(run.missing.length),
    String(run.maxLag),
    `${num(run.pauseS)} s`,
    `${num(run.ackGapS)} s`,
    run.recoveryS === null ? "not resumed" : `${num(run.recoveryS)} s`,
  ]);
  const out = [
    "## Scenario 6 — failover per layer under load",
    "",
    table(
      [
        "fault",
        "stopped",
        "requests during the fault",
        "acked / stored",
        "lost",
        "max lag",
        "consumer pause",
        "no-ack gap",
        "recovery",
      ],
      rows,
    ),
    "",
    table(
      ["layer", "paper", "ours"],
      [
        [
          "app (webserver1 stopped)",
          "all traffic to webserver2, no HTTP error (100 %)",
          f.web
            ? `${pct(f.web.load.successPct)} ok, ${f.web.load.non2xx + f.web.load.errors} failed; both nodes serving after restore: ${yesNo(f.webBothServingAfter)}`
            : "–",
        ],
        [
          "database (primary stopped)",
          "writes refused, replica serves reads; primary catches up on return",
          f.pgFacts
            ? `writes refused: ${yesNo(f.pgFacts.writeRefused)} (${f.pgFacts.writeError || "–"}); reads from standby: ${yesNo(f.pgFacts.readFromStandby)}; writable nodes per probe: ${f.pgFacts.writablePrimaries.join(",")}; after return: writes ${yesNo(f.pgFacts.writesResumed)}, streaming ${yesNo(f.pgFacts.standbyStreamingAfter)}, identical ${yesNo(f.pgFacts.digestsEqualAfter)}`
            : "–",
        ],
        [
          "messaging (kafka1 stopped)",
          "kafka2 takes over partitions; kafka1 rejoins and syncs",
          f.kafka
            ? `${f.kafka.missing.length} acknowledged messages lost; ISR after restore ${f.kafkaIsrAfter?.join(",") ?? "–"}`
            : "–",
        ],
      ],
    ),
    "",
    ...timelineLinks(runs),
  ];
  return out;
}

function checksSection(checks: readonly Check[]): string[] {
  return [
    "## Pass conditions",
    "",
    table(
      ["scenario", "condition", "result", "detail"],
      checks.map((c) => [String(c.scenario), c.name, c.pass ? "PASS" : "FAIL", c.detail]),
    ),
    "",
  ];
}

function scenario7(r: DrillResults): string[] {
  const a = r.alerting;
  if (!a) return [];
  const s = (v: number | null): string => (v === null ? "–" : `${v.toFixed(0)} s`);
  const after = (v: number | null): string => s(afterRestoreS(v, a.restoredAtS));
  return [
    "## Scenario 7 — alerting: stop nodes, alerts fire, reach Alertmanager, resolve",
    "",
    `Stopped at 0 s: ${a.stopped.join(", ")}; started again at ${s(a.restoredAtS)}. Prometheus' and Alertmanager's alert APIs polled every 2 s (${a.polls} polls).`,
    "",
    table(
      [
        "alert",
        "node",
        "pending",
        "firing (Prometheus)",
        "in Alertmanager (state)",
        "resolved in Prometheus (after start)",
        "gone from Alertmanager (after start)",
      ],
      a.milestones.map((m) => [
        m.alert,
        m.node,
        s(m.pendingS),
        s(m.firingS),
        m.alertmanagerS === null ? "–" : `${s(m.alertmanagerS)} (${m.alertmanagerState})`,
        after(m.resolvedPrometheusS),
        after(m.resolvedAlertmanagerS),
      ]),
    ),
    "",
    `Other alerts firing meanwhile (not expected, not a failure): ${a.unexpected.join(", ") || "none"}. The rules' \`for:\` durations (30 s-1 m) and the 15 s scrape/evaluation interval set the firing times.`,
    "",
  ];
}

/** The Markdown report: our figures beside the paper's Tables 1-4, the failovers, every check. */
export function renderMarkdownReport(r: DrillResults, checks: readonly Check[]): string {
  const failed = checks.filter((c) => !c.pass).length;
  const params = Object.entries(r.parameters)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  return [
    `# Drill report — target ${r.target}`,
    "",
    `Run ${r.runId}, ${r.startedAt} → ${r.finishedAt}. Parameters: ${params}.`,
    "",
    `**Verdict: ${failed === 0 && checks.length > 0 ? "PASS" : "FAIL"}** — ${checks.length - failed} of ${checks.length} pass conditions met.`,
    "",
    ...table1(r),
    ...scenario2(r),
    ...table2(r),
    ...table3(r),
    ...scenario5(r),
    ...table4(r),
    ...scenario6(r),
    ...scenario7(r),
    ...hardFaultsSection(r),
    ...hostLossSection(r),
    ...lbPairSection(r),
    ...pgFailoverSection(r),
    ...rollingSection(r),
    ...restoreSection(r),
    ...securitySection(r.security, table),
    ...scrapeWholeRun(r),
    ...checksSection(checks),
  ].join("\n");
}

/** The same report as JSON: results, checks, verdict and the paper's figures. */
export function renderJsonReport(r: DrillResults, checks: readonly Check[]): string {
  const failed = checks.filter((c) => !c.pass).length;
  return `${JSON.stringify({ verdict: failed === 0 && checks.length > 0 ? "pass" : "fail", failed, checks, results: r, paper: PAPER }, null, 2)}\n`;
}

import { PAPER } from "./paper";
import type { Series, TargetHealth } from "./parse/prometheus";
import { percentile } from "./stats";
import type { ScrapeFigure } from "./types";

/** Our target (the issue): p99 of a job's successful scrapes. */
export const SCRAPE_P99_TARGET_MS = { jmx: 150, other: 25 } as const;

export function isJmxJob(job: string): boolean {
  return /jmx/i.test(job);
}

/** Our p99 target for a job: < 150 ms for JMX, < 25 ms for every other job. */
export function scrapeTargetMs(job: string): number {
  return isJmxJob(job) ? SCRAPE_P99_TARGET_MS.jmx : SCRAPE_P99_TARGET_MS.other;
}

/** The paper's bound for a job: < 360 ms for JMX, < 50 ms for every other job. */
export function paperScrapeBoundMs(job: string): number {
  return isJmxJob(job) ? PAPER.table4.jmxScrapeMs : PAPER.table4.promScrapeMs;
}

/**
 * Instant queries whose range selector returns every raw sample of the window with its timestamp
 * (no step, so no scrape is skipped or counted twice).
 */
export function scrapeQueries(windowS: number): { durations: string; up: string } {
  if (!Number.isInteger(windowS) || windowS < 1) {
    throw new Error(`scrape window must be a whole number of seconds >= 1 (got ${windowS})`);
  }
  return { durations: `scrape_duration_seconds[${windowS}s]`, up: `up[${windowS}s]` };
}

const key = (job: string, instance: string, tMs: number): string =>
  `${job}\u0000${instance}\u0000${tMs}`;

/** Prometheus timestamps are seconds with millisecond precision; join on whole milliseconds. */
const toMs = (t: number): number => Math.round(t * 1000);

interface JobSamples {
  durationsS: number[];
  failed: number;
}

/**
 * Per-job scrape figures from the raw samples of `scrape_duration_seconds[w]` and `up[w]`: a
 * scrape's duration counts only if its `up` sample (same job, instance and timestamp) is 1; scrapes
 * whose `up` is 0 are counted as failed (their duration says nothing of cost); a duration without
 * an `up` sample at its timestamp is left out. Jobs are those of the active targets and of the
 * samples, sorted by name; a job without a successful scrape has null percentiles.
 */
export function scrapeFigures(
  durations: readonly Series[],
  up: readonly Series[],
  targets: readonly TargetHealth[],
): ScrapeFigure[] {
  const upAt = new Map<string, number>();
  const jobs = new Map<string, JobSamples>();
  const ofJob = (job: string): JobSamples => {
    const j = jobs.get(job) ?? { durationsS: [], failed: 0 };
    jobs.set(job, j);
    return j;
  };
  for (const t of targets) ofJob(t.job);
  for (const s of up) {
    const job = s.labels.job ?? "";
    const instance = s.labels.instance ?? "";
    const j = ofJob(job);
    for (const [t, v] of s.values) {
      upAt.set(key(job, instance, toMs(t)), v);
      if (v !== 1) j.failed++;
    }
  }
  for (const s of durations) {
    const job = s.labels.job ?? "";
    const instance = s.labels.instance ?? "";
    const j = ofJob(job);
    for (const [t, v] of s.values) {
      if (upAt.get(key(job, instance, toMs(t))) === 1) j.durationsS.push(v);
    }
  }
  return [...jobs.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([job, { durationsS, failed }]) => {
      const own = targets.filter((t) => t.job === job);
      const timeouts = own.map((t) => t.scrapeTimeoutS).filter(Number.isFinite);
      const any = durationsS.length > 0;
      return {
        job,
        targets: own.length,
        samples: durationsS.length,
        failed,
        p50Ms: any ? percentile(durationsS, 50) * 1000 : null,
        p99Ms: any ? percentile(durationsS, 99) * 1000 : null,
        maxMs: any ? Math.max(...durationsS) * 1000 : null,
        timeoutMs: timeouts.length ? Math.min(...timeouts) * 1000 : null,
      };
    });
}

/** The worst job among those matching: highest p99 and highest max, each with its job. */
export function worstScrape(
  figures: readonly ScrapeFigure[],
  jmx: boolean,
): { p99: [string, number] | null; max: [string, number] | null } {
  const pick = (field: "p99Ms" | "maxMs"): [string, number] | null => {
    let best: [string, number] | null = null;
    for (const f of figures) {
      const v = f[field];
      if (isJmxJob(f.job) !== jmx || v === null || v === undefined || !Number.isFinite(v)) continue;
      if (!best || v > best[1]) best = [f.job, v];
    }
    return best;
  };
  return { p99: pick("p99Ms"), max: pick("maxMs") };
}

const fmtMs = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? "–" : `${v.toFixed(1)} ms`;

/** One line per job, e.g. `kafka-jmx  targets 3  samples 180  failed 0  p50 21.3 ms  p99 …`. */
export function formatScrapeLines(figures: readonly ScrapeFigure[]): string[] {
  const width = Math.max(0, ...figures.map((f) => f.job.length));
  return figures.map(
    (f) =>
      `${f.job.padEnd(width)}  targets ${f.targets}  samples ${f.samples}  failed ${f.failed}  p50 ${fmtMs(f.p50Ms)}  p99 ${fmtMs(f.p99Ms)}  max ${fmtMs(f.maxMs)}`,
  );
}

/** Longest window the whole-run figures cover (its last part, for a longer run). */
export const WHOLE_RUN_CAP_S = 2 * 60 * 60;

/** The whole run's window: its duration rounded up to whole seconds (at least 1), capped. */
export function wholeRunWindow(
  startMs: number,
  endMs: number,
  capS: number = WHOLE_RUN_CAP_S,
): { windowS: number; capped: boolean; fromMs: number } {
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs < startMs) {
    throw new Error(`run window: end must not precede start (got ${startMs} → ${endMs})`);
  }
  const runS = Math.max(1, Math.ceil((endMs - startMs) / 1000));
  const windowS = Math.min(runS, capS);
  return { windowS, capped: runS > capS, fromMs: endMs - windowS * 1000 };
}

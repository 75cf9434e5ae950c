/**
 * Scenario 14 (pgFailover auto), pure parts: the trials, the bars, and what the probes' samples
 * say (writes back, two writers at once, committed rows kept).
 */

export type PgFaultKind = "sigkill" | "stop" | "link-down";
export const PG_FAULT_KINDS: readonly PgFaultKind[] = ["sigkill", "stop", "link-down"];

export const PG_FAILOVER_BOUNDS = {
  /** issue 13: writes through HAProxy resume within this many s of the primary's fault */
  maxWritesBackS: 10,
  /** s of load before the fault, and after the faulted node is back as a replica */
  leadS: 3,
  tailS: 3,
  /** `pct stop` of the primary lasts this long before `pct start` */
  stopS: 10,
  /** the primary's link stays down this long: past Patroni's ttl, so the replica takes over */
  linkDownS: 10,
  /** the direct-commit probe: one autocommit INSERT through HAProxy every this many ms */
  commitIntervalMs: 100,
  /** each probe attempt (connect or INSERT) gives up after this many ms */
  commitTimeoutMs: 2000,
  /** both nodes' pg_is_in_recovery() polled every this many ms */
  writerPollMs: 200,
  /** until the faulted node is a streaming replica again (pg_rewind included), s */
  rejoinS: 120,
  /** until exactly one primary and a streaming replica, before a trial, s */
  settleS: 90,
} as const;

export interface PgFailoverTrialSpec {
  id: string;
  kind: PgFaultKind;
  trial: number;
}

/** `trials` of each fault kind, interleaved (sigkill, stop, link-down, sigkill, ...). */
export function pgFailoverTrials(trials: number): PgFailoverTrialSpec[] {
  if (!Number.isInteger(trials) || trials < 1) throw new Error(`bad trial count ${trials}`);
  const out: PgFailoverTrialSpec[] = [];
  for (let t = 1; t <= trials; t++)
    for (const kind of PG_FAULT_KINDS) out.push({ id: `pg-${kind}-${t}`, kind, trial: t });
  return out;
}

/** One attempt of the direct-commit probe (times in ms since the epoch). */
export interface CommitAttempt {
  n: number;
  uid: string;
  t0: number;
  t1: number;
  ok: boolean;
  err: string;
}

/** Parses the probe's JSON lines; lines that are not an attempt are ignored. */
export function parseCommitAttempts(text: string): CommitAttempt[] {
  const out: CommitAttempt[] = [];
  for (const line of text.split("\n")) {
    const s = line.trim();
    if (!s.startsWith("{")) continue;
    try {
      const a = JSON.parse(s) as Partial<CommitAttempt>;
      if (
        typeof a.n === "number" &&
        typeof a.uid === "string" &&
        typeof a.t0 === "number" &&
        typeof a.t1 === "number" &&
        typeof a.ok === "boolean"
      )
        out.push({ n: a.n, uid: a.uid, t0: a.t0, t1: a.t1, ok: a.ok, err: String(a.err ?? "") });
    } catch {
      // a torn line at the end of a killed probe
    }
  }
  return out.sort((a, b) => a.n - b.n);
}

/**
 * Seconds from the fault until writes work again: the end of the first successful commit after
 * the last failed attempt that ended after the fault (no failure: the first success that ended
 * after it). null: no success after the failures (never back).
 */
export function writesBackS(attempts: readonly CommitAttempt[], faultAt: number): number | null {
  // The probe runs one attempt at a time, so n orders them in time.
  const after = attempts.filter((a) => a.t1 >= faultAt);
  const lastFail = [...after].reverse().find((a) => !a.ok);
  const back = after.find((a) => a.ok && (!lastFail || a.n > lastFail.n));
  return back ? Math.max(0, (back.t1 - faultAt) / 1000) : null;
}

/** Longest time with no successful commit ending, from the fault on, in s (a figure). */
export function longestCommitGapS(attempts: readonly CommitAttempt[], faultAt: number): number {
  const ends = attempts
    .filter((a) => a.ok)
    .map((a) => a.t1)
    .sort((x, y) => x - y);
  let prev = faultAt;
  let gap = 0;
  for (const t of ends) {
    if (t < faultAt) continue;
    gap = Math.max(gap, t - prev);
    prev = t;
  }
  return gap / 1000;
}

/** One poll of both PostgreSQL nodes: writable (not in recovery), in recovery, or no answer. */
export interface WriterSample {
  at: number;
  /** node name -> true writable, false in recovery, null no answer (stopped, not running) */
  writable: Record<string, boolean | null>;
}

/** Polls in which more than one node was writable, and the longest run of them in ms. */
export function twoWriters(samples: readonly WriterSample[]): { polls: number; longestMs: number } {
  let polls = 0;
  let longestMs = 0;
  let runStart: number | null = null;
  for (const s of samples) {
    const writers = Object.values(s.writable).filter((w) => w === true).length;
    if (writers > 1) {
      polls++;
      runStart ??= s.at;
      longestMs = Math.max(longestMs, s.at - runStart);
    } else runStart = null;
  }
  return { polls, longestMs };
}

/** The node that was writable in the last poll with exactly one writer, or null. */
export function writerAtEnd(samples: readonly WriterSample[]): string | null {
  for (let i = samples.length - 1; i >= 0; i--) {
    const w = Object.entries(samples[i].writable).filter(([, v]) => v === true);
    if (w.length === 1) return w[0][0];
  }
  return null;
}

import type { ProgressSample } from "./types";

/** Consumer lag over time: acknowledged but not yet stored, in messages. */
export function lagSeries(samples: readonly ProgressSample[]): Array<[number, number]> {
  return samples.map(([t, acked, stored]) => [t, Math.max(0, acked - stored)]);
}

export function maxLag(samples: readonly ProgressSample[]): number {
  return lagSeries(samples).reduce((m, [, lag]) => Math.max(m, lag), 0);
}

export interface Stall {
  startMs: number;
  endMs: number;
  /** false when consumption had not resumed by the last sample */
  resumed: boolean;
}

/**
 * The longest time the stored count stood still while a backlog existed, among stalls that end
 * after `fromMs`. The resolution is the sampling interval: an uninterrupted flow shows stalls of
 * one interval.
 */
export function longestStall(samples: readonly ProgressSample[], fromMs = 0): Stall | null {
  let best: Stall | null = null;
  let lastChangeT: number | null = null;
  let backlogSinceChange = false;
  for (let i = 0; i < samples.length; i++) {
    const [t, acked, stored] = samples[i];
    const changed = i === 0 || stored !== samples[i - 1][2];
    if (changed) {
      if (lastChangeT !== null && backlogSinceChange && t >= fromMs) {
        if (!best || t - lastChangeT > best.endMs - best.startMs) {
          best = { startMs: lastChangeT, endMs: t, resumed: true };
        }
      }
      lastChangeT = t;
      backlogSinceChange = acked > stored;
    } else if (acked > stored) {
      backlogSinceChange = true;
    }
  }
  const last = samples[samples.length - 1];
  if (last && lastChangeT !== null && last[1] > last[2] && last[0] > lastChangeT) {
    if (!best || last[0] - lastChangeT > best.endMs - best.startMs) {
      best = { startMs: lastChangeT, endMs: last[0], resumed: false };
    }
  }
  return best;
}

/**
 * Seconds from the fault until the lag fell to `threshold` or below for good (null when it was
 * still above at the last sample). 0 when the lag never exceeded the threshold after the fault.
 */
export function recoverySeconds(
  samples: readonly ProgressSample[],
  faultMs: number,
  threshold: number,
): number | null {
  const after = lagSeries(samples).filter(([t]) => t >= faultMs);
  if (after.length === 0) return null;
  if (after[after.length - 1][1] > threshold) return null;
  let lastAbove: number | null = null;
  for (let i = 0; i < after.length; i++) if (after[i][1] > threshold) lastAbove = i;
  if (lastAbove === null) return 0;
  return (after[lastAbove + 1][0] - faultMs) / 1000;
}

/** acked(t): how many uids had been acknowledged by time t, from the acknowledgement times. */
export function ackedBy(ackTimesMs: readonly number[], t: number): number {
  let n = 0;
  for (const a of ackTimesMs) if (a <= t) n++;
  return n;
}

/**
 * The longest time (s) without a successful (2xx) response from `fromMs` on, counted from the last
 * success before it; a stall still running at the last response counts up to that response.
 */
export function longestAckGap(
  responses: ReadonlyArray<readonly [number, number]>,
  fromMs = 0,
): number {
  const sorted = [...responses].sort((a, b) => a[0] - b[0]);
  const ok = sorted.filter(([, s]) => s >= 200 && s < 300).map(([t]) => t);
  let prev = fromMs;
  for (const t of ok) if (t < fromMs) prev = t;
  let gap = 0;
  for (const t of ok) {
    if (t < fromMs) continue;
    gap = Math.max(gap, t - prev);
    prev = t;
  }
  const last = sorted[sorted.length - 1];
  if (last && last[0] > prev) gap = Math.max(gap, last[0] - prev);
  return gap / 1000;
}

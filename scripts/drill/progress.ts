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

/**
 * Seconds from the fault until consumption resumed: the end of the longest consumer pause after
 * the fault, 0 when no pause longer than `minPauseMs` happened, null when it had not resumed.
 */
export function resumedAfterSeconds(
  samples: readonly ProgressSample[],
  faultMs: number,
  minPauseMs = 1500,
): number | null {
  const stall = longestStall(samples, faultMs);
  if (!stall || stall.endMs - stall.startMs <= minPauseMs) return 0;
  if (!stall.resumed) return null;
  return Math.max(0, stall.endMs - faultMs) / 1000;
}

/** Progress of the write path between two instants (e.g. while a host is down). */
export interface WindowProgress {
  /** writes acknowledged (2xx) between the two samples that bound the window */
  acked: number;
  /** rows stored in that time; null when the stored count could not be read inside the window */
  stored: number | null;
}

/**
 * Acknowledged and stored messages from the last sample at or before `fromMs` to the last sample
 * at or before `toMs`. `unreadMs`: times of samples whose stored count could not be read (the
 * count then repeats the last known one, so a window with such a sample has no stored figure).
 */
export function windowProgress(
  samples: readonly ProgressSample[],
  fromMs: number,
  toMs: number,
  unreadMs: readonly number[] = [],
): WindowProgress {
  const at = (ms: number): ProgressSample => {
    const before = samples.filter(([t]) => t <= ms);
    return before.length > 0 ? before[before.length - 1] : [ms, 0, 0];
  };
  const [, ackedFrom, storedFrom] = at(fromMs);
  const [, ackedTo, storedTo] = at(toMs);
  const unread = unreadMs.some((t) => t > fromMs && t <= toMs);
  return { acked: ackedTo - ackedFrom, stored: unread ? null : storedTo - storedFrom };
}

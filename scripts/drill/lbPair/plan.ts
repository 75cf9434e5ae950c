/**
 * Scenario 10, the LB pair (issue 14): which faults of the VIP holder are drilled, how the VIP
 * holder is read, and the figures derived from the holder samples. Pure functions.
 */
import { longestStretchMs } from "../stretch";

export type LbPairFaultKind = "sigkill-nginx" | "stop" | "link-down";

export const LB_PAIR_KINDS: readonly LbPairFaultKind[] = ["sigkill-nginx", "stop", "link-down"];

export interface LbPairTrialSpec {
  /** file-name friendly, e.g. `lbpair-stop-2` */
  id: string;
  kind: LbPairFaultKind;
  /** 1-based trial number of its kind */
  trial: number;
}

/** Every kind `trials` times, kinds interleaved (the holder alternates between the two nodes). */
export function lbPairTrials(trials: number): LbPairTrialSpec[] {
  const out: LbPairTrialSpec[] = [];
  for (let trial = 1; trial <= trials; trial++) {
    for (const kind of LB_PAIR_KINDS) out.push({ id: `lbpair-${kind}-${trial}`, kind, trial });
  }
  return out;
}

/** What one poll of an LB node says: its link state and whether the VIP is on that link. */
export interface LbNodeView {
  linkUp: boolean;
  hasVip: boolean;
}

/**
 * Parses `cat /sys/class/net/<if>/operstate; ip -o -4 addr show dev <if>` run in the node. A
 * node holds the VIP when the address is on its interface and the link is up ("unknown" is what
 * a veth reports before its carrier state is known; only "down"/"lowerlayerdown" count as down).
 */
export function parseLbNodeView(text: string, vip: string): LbNodeView {
  const [state = "", ...rest] = text.trim().split("\n");
  const linkUp = !/^(down|lowerlayerdown|notpresent)$/.test(state.trim());
  const hasVip = rest.some((l) => new RegExp(`\\binet ${vip.replace(/\./g, "\\.")}/\\d+`).test(l));
  return { linkUp, hasVip };
}

/** The MAC in `ip neigh show <ip> dev <bridge>`, or null when the entry is absent or failed. */
export function neighbourMac(text: string): string | null {
  const m = /\blladdr ([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/i.exec(text);
  return m ? m[1].toLowerCase() : null;
}

/** One poll of every LB node: the nodes holding the VIP on an up link, and the host's view. */
export interface HolderSample {
  /** ms since the epoch */
  at: number;
  holders: string[];
  /** the node whose MAC the host's neighbour entry for the VIP names (null: none or unknown) */
  hostSees: string | null;
}

/** ms from `fromMs` until a node other than `old` held the VIP, or null if none did. */
export function vipMovedAfterMs(
  samples: readonly HolderSample[],
  old: string,
  fromMs: number,
): number | null {
  const s = samples.find((x) => x.at >= fromMs && x.holders.some((h) => h !== old));
  return s ? s.at - fromMs : null;
}

/** ms from `fromMs` until the host's neighbour entry named a node other than `old`, or null. */
export function hostSwitchedAfterMs(
  samples: readonly HolderSample[],
  old: string,
  fromMs: number,
): number | null {
  const s = samples.find((x) => x.at >= fromMs && x.hostSees !== null && x.hostSees !== old);
  return s ? s.at - fromMs : null;
}

/**
 * Longest stretch (ms) from `fromMs` on in which two or more nodes held the VIP at once: from the
 * first such sample to the first sample after it with at most one holder (or the last sample).
 */
export function longestDualHolderMs(samples: readonly HolderSample[], fromMs: number): number {
  return longestStretchMs(samples, (s) => s.holders.length > 1, fromMs);
}

/** The holders named by the last sample at or after `fromMs` (the state the trial ended in). */
export function holdersAtEnd(samples: readonly HolderSample[]): string[] {
  return samples.length === 0 ? [] : samples[samples.length - 1].holders;
}

/** Every holder seen from `fromMs` on, in order of first appearance. */
export function holdersSeen(samples: readonly HolderSample[], fromMs: number): string[] {
  const seen: string[] = [];
  for (const s of samples) {
    if (s.at < fromMs) continue;
    for (const h of s.holders) if (!seen.includes(h)) seen.push(h);
  }
  return seen;
}

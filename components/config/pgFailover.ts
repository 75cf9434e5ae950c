/**
 * Automatic PostgreSQL failover (pgFailover auto, the default: Patroni 3.1.2 from PyPI + etcd 3.4
 * from Debian 12): the timings and the arithmetic behind their defaults (config/failoverPlan.ts:
 * who runs what; render/patroniRelease.ts: why that Patroni).
 *
 * Target: writes through HAProxy resume within 10 s after the primary's node fails.
 *
 * - Hard loss (SIGKILL of Patroni and PostgreSQL, container stop or crash, network partition):
 *   the primary renews its etcd lease every loop_wait, so the leader key expires at most `ttl`
 *   after the fault. The replica's watch on the key fires; before it takes the lock it asks every
 *   member of its last cluster view for its state, the lost leader included, with Patroni's fixed
 *   2 s timeout (a host that is gone answers nothing). Then it promotes (pg_ctl promote, well
 *   under 1 s) and HAProxy marks it UP after `rise` checks, at most rise x inter later.
 *   Defaults: 5 + 2 + 1 + 1 x 0.5 = 8.5 s. Measured in the sandbox (ttl 5, retry_timeout 2):
 *   a stopped primary 6.9-7.4 s, a cut-off one 7.0-7.3 s (the fault falls between two lease
 *   renewals, so less than the full ttl passes).
 * - Graceful stop (systemctl stop, container shutdown): Patroni stops PostgreSQL and deletes the
 *   leader key; the replica promotes at once: about 1-2 s + 0.5 s.
 * - SIGKILL of Patroni and the postmaster together: systemd starts Patroni again; still the lock
 *   holder, it runs crash recovery and promotes in place (no failover, no lost commit).
 * - A partitioned primary stops being a primary before the replica may take over: it demotes
 *   when a lease renewal has failed for retry_timeout, i.e. within loop_wait + 2 x retry_timeout
 *   <= ttl (Patroni's rule), and HAProxy's on-marked-down ends the sessions it still had.
 *
 * retry_timeout 2 s covers an etcd leader election (election timeout 1 s, see etcd.ts; pre-vote
 * keeps a returning member from forcing one), so losing the etcd leader rarely demotes a healthy
 * primary, and a demotion costs seconds, never data. Patroni 3.2 and later raise a ttl below 20 s
 * to 20 (render/patroniRelease.ts), which would put a hard loss past the 10 s bound.
 */

export type PgFailoverMode = "manual" | "auto";
export const PG_FAILOVER_MODES: readonly PgFailoverMode[] = ["manual", "auto"];

export interface PatroniTimings {
  ttlSeconds: number;
  loopWaitSeconds: number;
  retryTimeoutSeconds: number;
}

export interface HaproxyCheckTimings {
  intervalMs: number;
  fall: number;
  rise: number;
}

export const PATRONI_TIMINGS_DEFAULT: PatroniTimings = {
  ttlSeconds: 5,
  loopWaitSeconds: 1,
  retryTimeoutSeconds: 2,
};

export const HAPROXY_CHECK_DEFAULT: HaproxyCheckTimings = { intervalMs: 500, fall: 2, rise: 1 };

/** Bounds of the settings (validate.ts) and of the renderers' own checks. */
export const PATRONI_LIMITS = {
  ttlSeconds: { min: 5, max: 300 },
  loopWaitSeconds: { min: 1, max: 60 },
  retryTimeoutSeconds: { min: 1, max: 120 },
} as const;

export const HAPROXY_CHECK_LIMITS = {
  intervalMs: { min: 100, max: 60000 },
  fall: { min: 1, max: 20 },
  rise: { min: 1, max: 20 },
} as const;

/** Seconds a promotion takes once the replica holds the lock (pg_ctl promote, measured ~1 s). */
export const PROMOTE_SECONDS = 1;

/** Patroni's rule; undefined when the timings keep it, else why not. */
export function patroniTimingRuleProblem(t: PatroniTimings): string | undefined {
  const needed = t.loopWaitSeconds + 2 * t.retryTimeoutSeconds;
  if (needed <= t.ttlSeconds) return undefined;
  return `loop_wait + 2 x retry_timeout must be <= ttl (${t.loopWaitSeconds} + 2 x ${t.retryTimeoutSeconds} = ${needed} > ${t.ttlSeconds})`;
}

/**
 * Seconds the replica's Patroni waits for the lost leader's REST API before it takes the lock: it
 * asks every member of the last cluster view, old leader included, with a fixed 2 s timeout
 * (Patroni 3.1.2, ha.py fetch_node_status). A host that is gone answers nothing, so all 2 s pass.
 */
export const LOST_LEADER_CHECK_SECONDS = 2;

/** Worst case from a hard loss of the primary until HAProxy sends writes to the new one, in ms. */
export function writeResumeBoundMs(p: PatroniTimings, h: HaproxyCheckTimings): number {
  return (
    (p.ttlSeconds + LOST_LEADER_CHECK_SECONDS + PROMOTE_SECONDS) * 1000 + h.rise * h.intervalMs
  );
}

/**
 * Durability of a stored batch beyond the primary. Replication is asynchronous: a commit the
 * primary acknowledged may not have reached the replica when the primary dies, and the promoted
 * replica then lacks it. The consumer commits a Kafka offset only once a replica has flushed the
 * WAL of the batch's commit (or no replica is connected at all: a one-node database cannot fail
 * over). This module holds the decision (pure) and the bounded wait around it; db.ts runs the
 * queries on the session that committed.
 */

/** One row of pg_stat_replication, as the probe selects it. */
export interface ReplicationRow {
  /** NULL when the role may not see other sessions' details (needs pg_read_all_stats). */
  state: string | null;
  /** NULL until the standby reported a flush (state startup) and for a base backup. */
  flush_lsn: string | null;
}

export type FlushDecision =
  /** A replica flushed the WAL up to the target: the batch survives a failover. */
  | { kind: "flushed"; replicas: number }
  /** No replica connected: the data lives on this node only, whatever we wait for. */
  | { kind: "no-replica" }
  /** pg_stat_replication hides the positions from this role: nothing can be decided. */
  | { kind: "hidden"; rows: number }
  /** A replica is connected but behind, and there is time left. */
  | { kind: "wait"; replicas: number }
  /** A replica is connected but did not get there within the bound. */
  | { kind: "timeout"; replicas: number };

/** A WAL position ("16/B374D848") as a number; text comparison would be wrong across "F/…". */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!match) throw new Error(`not a WAL position: "${text}"`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/**
 * What to do given the replication rows seen `elapsedMs` after the commit. A row in state
 * `backup` is a pg_basebackup (or a backup tool), not a replica that could be promoted.
 */
export function decideFlush(
  rows: readonly ReplicationRow[],
  target: bigint,
  elapsedMs: number,
  maxWaitMs: number,
): FlushDecision {
  if (rows.some((r) => r.state === null)) return { kind: "hidden", rows: rows.length };
  const replicas = rows.filter((r) => r.state !== "backup");
  if (replicas.length === 0) return { kind: "no-replica" };
  if (replicas.some((r) => r.flush_lsn !== null && parseLsn(r.flush_lsn) >= target)) {
    return { kind: "flushed", replicas: replicas.length };
  }
  if (elapsedMs >= maxWaitMs) return { kind: "timeout", replicas: replicas.length };
  return { kind: "wait", replicas: replicas.length };
}

/** What one probe on the committing session returns. */
export interface ReplicationProbe {
  /** The primary's WAL flush position, read after the commit returned. */
  lsn: string;
  replicas: ReplicationRow[];
}

export interface FlushWaitOptions {
  maxWaitMs: number;
  pollMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface FlushResult {
  outcome: Exclude<FlushDecision["kind"], "wait">;
  /** The target: the primary's flush position right after the commit. */
  lsn: string;
  waitedMs: number;
  /** Replicas connected at the last look (0 for no-replica and hidden). */
  replicas: number;
  /** Looks at pg_stat_replication, the first (which also read the position) included. */
  probes: number;
}

/**
 * Probes until a replica has flushed the position the first probe read, no replica is
 * connected, or `maxWaitMs` has passed. Errors of the probe propagate (the batch is retried).
 */
export async function waitForReplicaFlush(
  probe: () => Promise<ReplicationProbe>,
  opts: FlushWaitOptions,
): Promise<FlushResult> {
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const first = await probe();
  const target = parseLsn(first.lsn);
  let rows = first.replicas;
  for (let probes = 1; ; probes++) {
    const waitedMs = now() - started;
    const decision = decideFlush(rows, target, waitedMs, opts.maxWaitMs);
    if (decision.kind !== "wait") {
      return {
        outcome: decision.kind,
        lsn: first.lsn,
        waitedMs,
        replicas: "replicas" in decision ? decision.replicas : 0,
        probes,
      };
    }
    await sleep(Math.max(0, Math.min(opts.pollMs, opts.maxWaitMs - waitedMs)));
    rows = (await probe()).replicas;
  }
}

/**
 * The batch committed on the primary but is not known to be on a replica: the offsets must not be
 * committed. `insertedUids` are the rows this attempt inserted (the retry finds them present, or
 * inserts them again if they were lost in a failover), so the stored count stays right.
 */
export class ReplicaFlushError extends Error {
  constructor(
    readonly result: FlushResult,
    readonly insertedUids: ReadonlySet<string>,
  ) {
    super(
      result.outcome === "hidden"
        ? "pg_stat_replication hides the replicas' positions from the app's role: grant it " +
            "pg_read_all_stats (the stack's setup SQL does)"
        : `no replica flushed the batch's WAL (up to ${result.lsn}) within ` +
            `${Math.round(result.waitedMs)} ms (${result.replicas} connected)`,
    );
    this.name = "ReplicaFlushError";
  }
}

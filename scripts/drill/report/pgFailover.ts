import { pgFailoverTrialChecks } from "../conditions";
import { PG_FAILOVER_BOUNDS, PG_FAULT_KINDS } from "../pgFailover/plan";
import { percentile } from "../stats";
import type { DrillResults, PgFailoverTrial } from "../types";
import { failedCell } from "./failedCell";
import { num, table } from "./format";

const s = (v: number | null | undefined): string =>
  v === null || v === undefined ? "never" : `${num(v)} s`;

export function pgFailoverRow(t: PgFailoverTrial, synchronous: boolean): string[] {
  const failed = pgFailoverTrialChecks(t, synchronous).filter((c) => !c.pass).length;
  const run = t.run;
  return [
    `${t.kind} #${t.trial}`,
    `${t.primaryBefore ?? "?"} → ${t.primaryAfter ?? "?"}`,
    s(t.writesBackS),
    t.commits ? `${t.commits.ok} / ${t.commits.attempts}` : "–",
    t.committedLost === undefined ? "–" : String(t.committedLost),
    t.twoWriterPolls === undefined ? "–" : `${t.twoWriterPolls} / ${t.writerPolls}`,
    s(t.rejoinedS),
    failedCell(run),
    run ? `${run.acked} / ${run.stored} / ${run.missing.length} / ${run.duplicates ?? "?"}` : "–",
    t.error ? "FAIL (error)" : failed === 0 ? "PASS" : `FAIL (${failed})`,
  ];
}

/** p50 and max of writes back per fault kind, over the trials that came back. */
export function writesBackSummary(trials: readonly PgFailoverTrial[]): string[][] {
  return PG_FAULT_KINDS.map((kind) => {
    const v = trials
      .filter((t) => t.kind === kind && typeof t.writesBackS === "number")
      .map((t) => t.writesBackS as number);
    const lost = trials
      .filter((t) => t.kind === kind)
      .reduce((n, t) => n + (t.committedLost ?? 0), 0);
    return [
      kind,
      String(v.length),
      v.length ? `${num(percentile(v, 50))} s` : "–",
      v.length ? `${num(Math.max(...v))} s` : "–",
      String(lost),
    ];
  });
}

/** Scenario 14: every fault of the PostgreSQL primary, one row each, the summary and the bars. */
export function pgFailoverSection(r: DrillResults): string[] {
  const p = r.pgFailover;
  if (!p) return [];
  const mode = p.synchronous ? "synchronous (pgSynchronous true)" : "asynchronous";
  const head = `## Scenario 14 — PostgreSQL automatic failover, ${mode}`;
  if (!p.drilled) return [head, "", `${p.note ?? "not drilled"}; no checks.`, ""];
  const b = PG_FAILOVER_BOUNDS;
  return [
    head,
    "",
    `Each trial: the write load through the LB and a direct-commit probe (one autocommit INSERT through HAProxy's read-write port every ${b.commitIntervalMs} ms from an app node, ${b.commitTimeoutMs} ms timeout), then a fault of whichever node is primary at that moment (found, not planned): SIGKILL of every process of Patroni's unit (Patroni and PostgreSQL), \`pct stop\` for ${b.stopS} s, or its link down for ${b.linkDownS} s. Both nodes' \`pg_is_in_recovery()\` polled every ${b.writerPollMs} ms. Patroni's computed worst case for a hard loss: ${p.writeResumeBoundMs ?? "?"} ms. The family took ${num(p.durationS / 60)} min.`,
    "",
    table(
      [
        "trial",
        "primary → after",
        "writes back",
        "commits ok / sent",
        "committed rows lost",
        "two writers (polls)",
        "one primary + streaming replica after the heal",
        "LB load failed / total",
        "acked / stored / lost / dup",
        "pass",
      ],
      p.trials.map((t) => pgFailoverRow(t, p.synchronous)),
    ),
    "",
    table(
      ["fault", "trials", "writes back p50", "writes back max", "committed rows lost"],
      writesBackSummary(p.trials),
    ),
    "",
    `Bars: writes back within ${b.maxWritesBackS} s; never two writable nodes; the faulted node back as a replica streaming the same rows; 0 acknowledged messages lost, 0 duplicates${p.synchronous ? "; every commit that returned is on the new primary" : "; committed rows lost are measured, not barred (asynchronous replication)"}.`,
    "",
  ];
}

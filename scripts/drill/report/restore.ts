import { restoreChecks } from "../conditions";
import type { DrillResults, RestoreTrial } from "../types";
import { num, table } from "./format";

function row(t: RestoreTrial): string[] {
  const rows = t.rows;
  return [
    t.kind === "latest" ? "latest archived point" : `point in time ${t.target ?? ""}`,
    t.rtoS === undefined ? "–" : `${num(t.rtoS)} s`,
    rows ? `${rows.restored} / ${rows.source}` : "–",
    rows ? `${rows.missing} / ${rows.foreign}` : "–",
    t.kind === "latest" && t.rpoS !== undefined ? `${num(t.rpoS)} s` : "–",
    t.error ? `error: ${t.error.slice(0, 120)}` : "",
  ];
}

/** Scenario 12: the backup under load and one row per restore. */
export function restoreSection(r: DrillResults): string[] {
  const s = r.restore;
  if (!s) return [];
  const head =
    "## Scenario 12 — backup under load, restore to the latest point and to a point in time";
  if (!s.drilled) return [head, "", `${s.note ?? "not drilled"}; no checks.`, ""];
  const failed = restoreChecks(s).filter((c) => !c.pass).length;
  return [
    head,
    "",
    `A full pgBackRest backup on ${s.repoNode} while the write load runs (${s.backupOk ? "ok" : "FAILED"}, ${num(s.backupTookS)} s); writes before and after a point in time; then restores into a scratch instance on ${s.repoNode}, every row compared with the source (archive_timeout ${s.archiveTimeoutS} s). Writes: ${s.ackedStored} of ${s.acked} acked stored, ${s.failed} failed. Newest backup in Prometheus: ${s.backupMetricAgeS === null || s.backupMetricAgeS === undefined ? "not seen" : `${num(s.backupMetricAgeS)} s old`}. ${failed === 0 ? "PASS" : `FAIL (${failed})`}; ${num(s.durationS)} s.`,
    "",
    table(
      ["restore", "RTO (writable)", "rows restored / source", "missing / foreign", "RPO", ""],
      s.trials.map(row),
    ),
    "",
    "The latest restore runs right after the writes without forcing a WAL switch, so its RPO is what losing the whole cluster at that moment would cost (bounded by archive_timeout). RTO: from the restore command until the scratch instance accepted a write.",
    "",
  ];
}

/**
 * Scenario 12, backup and restore (issue 15): what a restored copy of the messages table says
 * against the source. Rows are compared as whole text lines (every column), so a restored row
 * that differs from its source row counts as foreign. Pure.
 */

/** The SQL that lists every row of messages as one line (psql -At), optionally up to a time. */
export function rowLinesSql(storedAtMost?: string): string {
  if (storedAtMost !== undefined && !/^[0-9 :.+-]+$/.test(storedAtMost)) {
    throw new Error(`storedAtMost must be a timestamp (got ${storedAtMost})`);
  }
  const where = storedAtMost === undefined ? "" : ` where stored_at <= '${storedAtMost}'`;
  return (
    "select concat_ws('|', message_uid, body, produced_by, produced_at, stored_by, stored_at) " +
    `from messages${where} order by message_uid`
  );
}

export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.length > 0);
}

export interface RowComparison {
  source: number;
  restored: number;
  /** source rows the restore lacks */
  missing: number;
  /** restored rows not in the source as they are (changed or unknown) */
  foreign: number;
}

export function compareRows(source: readonly string[], restored: readonly string[]): RowComparison {
  const src = new Set(source);
  const got = new Set(restored);
  let missing = 0;
  for (const row of src) if (!got.has(row)) missing++;
  let foreign = 0;
  for (const row of got) if (!src.has(row)) foreign++;
  return { source: src.size, restored: got.size, missing, foreign };
}

/** stored_at (6th field) of a row line as epoch ms; NaN when absent. */
function storedAtMs(line: string): number {
  const fields = line.split("|");
  // PostgreSQL's text form: "2026-11-30 20:19:06.529039+00" (JavaScript wants "T" and "+00:00").
  const iso = fields[fields.length - 1].replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00");
  return Date.parse(iso);
}

/**
 * Recovery point of a restore to the latest point: how far the newest restored row lags the
 * newest source row, in s (0 when nothing is missing).
 */
export function recoveryPointS(source: readonly string[], restored: readonly string[]): number {
  const got = new Set(restored);
  const missing = source.filter((row) => !got.has(row));
  if (missing.length === 0) return 0;
  const newestMissing = Math.max(...missing.map(storedAtMs));
  const newestRestored = restored.length > 0 ? Math.max(...restored.map(storedAtMs)) : NaN;
  if (!Number.isFinite(newestRestored)) return Infinity;
  return Math.max(0, (newestMissing - newestRestored) / 1000);
}

import { failedPct } from "../conditions";
import type { FaultRun } from "../types";
import { num } from "./format";

/**
 * "8/1200 (0.7 %) HTTP 503 ×8": a fault run's failed / total requests with their causes, and when
 * the failed ones were sent where the load recorded it (the open-loop load); "–" without a run.
 */
export function failedCell(run: FaultRun | null | undefined): string {
  if (!run) return "–";
  const kinds = Object.entries(run.failures ?? {})
    .map(([k, n]) => `${k} ×${n}`)
    .join(", ");
  const when = run.failedSentS
    ? `, sent ${num(run.failedSentS.first)}–${num(run.failedSentS.last)} s after the fault`
    : "";
  return `${run.load.non2xx + run.load.errors}/${run.load.requests} (${failedPct(run).toFixed(1)} %)${kinds ? ` ${kinds}` : ""}${when}`;
}

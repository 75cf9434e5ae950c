import { randomBytes } from "node:crypto";

/**
 * message_uids the drills send as idempotency keys: valid v4-shaped UUIDs whose first two groups
 * name the drill run and the phase, so one SQL `LIKE '<prefix>%'` finds exactly a phase's rows.
 */
export interface UidSeries {
  prefix: string;
  uid(n: number): string;
}

export function newRunId(): string {
  return randomBytes(4).toString("hex");
}

export function uidSeries(runId: string, phase: number): UidSeries {
  if (!/^[0-9a-f]{8}$/.test(runId)) throw new Error(`run id must be 8 hex digits (got ${runId})`);
  if (!Number.isInteger(phase) || phase < 0 || phase > 0xffff) {
    throw new Error(`phase must be an integer in 0..65535 (got ${phase})`);
  }
  const prefix = `${runId}-${phase.toString(16).padStart(4, "0")}-`;
  return {
    prefix,
    uid(n: number): string {
      if (!Number.isInteger(n) || n < 0 || n >= 2 ** 48) {
        throw new Error(`uid sequence number out of range (got ${n})`);
      }
      return `${prefix}4000-8000-${n.toString(16).padStart(12, "0")}`;
    },
  };
}

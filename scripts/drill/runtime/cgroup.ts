import type { StackNode } from "../outputs";
import type { DrillContext } from "./context";
import { pctExec } from "./pct";

/** usage_usec of a cgroup v2 cpu.stat file. */
export function parseCpuStatUsec(text: string): number {
  const m = /^usage_usec\s+(\d+)$/m.exec(text);
  if (!m) throw new Error(`cpu.stat has no usage_usec line: ${JSON.stringify(text.slice(0, 120))}`);
  return Number(m[1]);
}

/** CPU time the container's cgroup has used so far (its own view of /sys/fs/cgroup), in µs. */
export async function cpuUsageUsec(ctx: DrillContext, node: StackNode): Promise<number | null> {
  try {
    return parseCpuStatUsec(await pctExec(ctx.pct, node.vmid, ["cat", "/sys/fs/cgroup/cpu.stat"]));
  } catch {
    return null;
  }
}

/** Snapshots container CPU of several nodes; `since` turns a later snapshot into % of one core. */
export async function cpuSnapshot(
  ctx: DrillContext,
  nodes: readonly StackNode[],
): Promise<CpuSnapshot> {
  const usec: Record<string, number | null> = {};
  for (const n of nodes) usec[n.name] = await cpuUsageUsec(ctx, n);
  return { at: Date.now(), usec };
}

export interface CpuSnapshot {
  at: number;
  usec: Record<string, number | null>;
}

export function cpuPercent(before: CpuSnapshot, after: CpuSnapshot): Record<string, number | null> {
  const wallUs = (after.at - before.at) * 1000;
  const out: Record<string, number | null> = {};
  for (const [name, a] of Object.entries(after.usec)) {
    const b = before.usec[name];
    out[name] =
      a === null || b === null || b === undefined || wallUs <= 0 ? null : (100 * (a - b)) / wallUs;
  }
  return out;
}

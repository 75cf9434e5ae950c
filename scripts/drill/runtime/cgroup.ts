import type { StackNode } from "../outputs";
import type { DrillContext } from "./context";
import { pctExec } from "./pct";

/**
 * The container's own CPU time: cgroup v2 `cpu.stat` (Proxmox VE 7+), else cgroup v1
 * `cpuacct.usage` (ns), printed as `cpuacct_usage_ns <n>`.
 */
const CPU_USAGE_SCRIPT = [
  "if [ -r /sys/fs/cgroup/cpu.stat ]; then exec cat /sys/fs/cgroup/cpu.stat; fi",
  "for f in /sys/fs/cgroup/cpuacct/cpuacct.usage /sys/fs/cgroup/cpu,cpuacct/cpuacct.usage; do",
  '  if [ -r "$f" ]; then echo "cpuacct_usage_ns $(cat "$f")"; exit 0; fi',
  "done",
  "echo 'no cgroup cpu accounting file' >&2; exit 1",
].join("\n");

/** CPU time in µs from cgroup v2 cpu.stat (usage_usec) or the v1 line the script prints. */
export function parseCpuStatUsec(text: string): number {
  const v2 = /^usage_usec\s+(\d+)$/m.exec(text);
  if (v2) return Number(v2[1]);
  const v1 = /^cpuacct_usage_ns\s+(\d+)$/m.exec(text);
  if (v1) return Number(v1[1]) / 1000;
  throw new Error(`no usage_usec or cpuacct_usage_ns line: ${JSON.stringify(text.slice(0, 120))}`);
}

/** CPU time the container's cgroup has used so far (its own view of /sys/fs/cgroup), in µs. */
export async function cpuUsageUsec(ctx: DrillContext, node: StackNode): Promise<number | null> {
  try {
    return parseCpuStatUsec(
      await pctExec(ctx.pct, node.vmid, ["sh", "-s"], { stdin: CPU_USAGE_SCRIPT }),
    );
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

import type { StackNode } from "../outputs";
import type { DrillContext } from "./context";
import { pctExec } from "./pct";

/**
 * The container's own CPU time: cgroup v2 `cpu.stat` (Proxmox VE 7+), else cgroup v1
 * `cpuacct.usage` (ns) when the container sees it, else the sum of utime+stime of every process
 * the container's /proc shows (ticks; misses processes that exited unreaped).
 */
const CPU_USAGE_SCRIPT = [
  "if [ -r /sys/fs/cgroup/cpu.stat ]; then exec cat /sys/fs/cgroup/cpu.stat; fi",
  "for f in /sys/fs/cgroup/cpuacct/cpuacct.usage /sys/fs/cgroup/cpu,cpuacct/cpuacct.usage; do",
  '  if [ -r "$f" ]; then echo "cpuacct_usage_ns $(cat "$f")"; exit 0; fi',
  "done",
  // Field 1 after "pid (comm) " is the state; utime and stime are fields 12 and 13 from there.
  "ticks=$(cat /proc/[0-9]*/stat 2>/dev/null | sed 's/^.*) //' | awk '{t += $12 + $13} END {print t}')",
  'echo "proc_ticks ${ticks:-0} $(getconf CLK_TCK)"',
].join("\n");

/** CPU time in µs from any of the three lines the script prints. */
export function parseCpuStatUsec(text: string): number {
  const v2 = /^usage_usec\s+(\d+)$/m.exec(text);
  if (v2) return Number(v2[1]);
  const v1 = /^cpuacct_usage_ns\s+(\d+)$/m.exec(text);
  if (v1) return Number(v1[1]) / 1000;
  const proc = /^proc_ticks\s+(\d+)\s+(\d+)$/m.exec(text);
  if (proc && Number(proc[2]) > 0) return (Number(proc[1]) * 1_000_000) / Number(proc[2]);
  throw new Error(
    `no usage_usec, cpuacct_usage_ns or proc_ticks line: ${JSON.stringify(text.slice(0, 120))}`,
  );
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

import type { StackNode } from "../outputs";
import type { DrillContext } from "./context";
import type { ExecResult } from "./pct";

/**
 * `pct stop|start` of a node, keeping ctx.stopped (what an interrupted drill starts again) in step:
 * a node counts as stopped from before its stop until a start succeeded.
 */
export async function setNodeRunning(
  ctx: DrillContext,
  node: StackNode,
  running: boolean,
): Promise<ExecResult> {
  if (!running) ctx.stopped.add(node.vmid);
  const r = await ctx.pct.run([running ? "start" : "stop", String(node.vmid)]);
  if (running && r.code === 0) ctx.stopped.delete(node.vmid);
  return r;
}

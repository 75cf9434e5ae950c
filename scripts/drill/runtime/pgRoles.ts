import { nodesByRole, type StackNode } from "../outputs";
import type { DrillContext } from "./context";
import { inRecovery, replication } from "./db";
import { sleep } from "./http";

/** The stack's two PostgreSQL nodes, whatever role they hold now. */
export function pgNodes(ctx: DrillContext): StackNode[] {
  return [...nodesByRole(ctx.outputs, "pg-primary"), ...nodesByRole(ctx.outputs, "pg-standby")];
}

/** Each PostgreSQL node: writable (true), in recovery (false), no answer (null). */
export async function pgWritable(ctx: DrillContext): Promise<Record<string, boolean | null>> {
  const nodes = pgNodes(ctx);
  const states = await Promise.all(nodes.map((n) => inRecovery(ctx, n)));
  return Object.fromEntries(nodes.map((n, i) => [n.name, states[i] === null ? null : !states[i]]));
}

/**
 * pgFailover auto: the primary is whichever node Patroni promoted, so the drills find it (one
 * node writable; the other in recovery, or down) and point ctx.pgPrimary / ctx.pgStandby at them.
 * Waits (bounded) for that state, and with `streaming` also for the other to be a replica
 * streaming from it. Manual mode keeps the planned roles. Returns false when the state did not
 * come within the bound (a first look when `withinMs` is 0).
 */
export async function settlePgRoles(
  ctx: DrillContext,
  withinMs: number,
  streaming = false,
): Promise<boolean> {
  if (ctx.outputs.pgFailover.mode !== "auto") return true;
  const nodes = pgNodes(ctx);
  const deadline = Date.now() + withinMs;
  for (;;) {
    const w = await pgWritable(ctx);
    const writable = nodes.filter((n) => w[n.name] === true);
    // One writable node is the primary, the other (in recovery, or down) the standby.
    if (writable.length === 1) {
      const [primary] = writable;
      const standby = nodes.find((n) => n !== primary) ?? primary;
      ctx.pgPrimary = primary;
      ctx.pgStandby = standby;
      if (!streaming) return true;
      const rows = await replication(ctx).catch(() => []);
      if (
        w[standby.name] === false &&
        rows.some((r) => r.clientAddr === standby.ip && r.state === "streaming")
      )
        return true;
    }
    if (Date.now() > deadline) return false;
    await sleep(500);
  }
}

import type { StackNode } from "../outputs";
import {
  defaultGateway,
  interfaceOf,
  linkDownScript,
  linkUpScript,
  parseUnitShow,
  type UnitState,
} from "../hardFaults/shell";
import type { DrillContext } from "./context";
import { pctExec } from "./pct";

export async function unitState(
  ctx: DrillContext,
  node: StackNode,
  unit: string,
): Promise<UnitState> {
  return parseUnitShow(
    await pctExec(
      ctx.pct,
      node.vmid,
      ["systemctl", "show", "-p", "ActiveState", "-p", "MainPID", unit],
      {
        timeoutMs: 15_000,
      },
    ),
  );
}

function unitKey(node: StackNode, unit: string): string {
  return `unit:${node.vmid}:${unit}`;
}

function linkKey(node: StackNode): string {
  return `link:${node.vmid}`;
}

/** Starts a unit (a no-op when it runs); what an interrupted drill does for a killed unit. */
export async function startUnit(ctx: DrillContext, node: StackNode, unit: string): Promise<void> {
  await pctExec(ctx.pct, node.vmid, ["systemctl", "start", unit], { timeoutMs: 180_000 });
  ctx.undo.delete(unitKey(node, unit));
}

/** SIGKILL of the unit's main process; returns the PID killed. */
export async function killMainProcess(
  ctx: DrillContext,
  node: StackNode,
  unit: string,
): Promise<number> {
  const before = await unitState(ctx, node, unit);
  if (before.activeState !== "active" || before.mainPid <= 0) {
    throw new Error(`${unit} on ${node.name} is ${before.activeState} (MainPID ${before.mainPid})`);
  }
  ctx.undo.set(unitKey(node, unit), () => startUnit(ctx, node, unit));
  await pctExec(ctx.pct, node.vmid, ["kill", "-KILL", String(before.mainPid)], {
    timeoutMs: 15_000,
  });
  return before.mainPid;
}

/** The killed unit came back: nothing left to undo. */
export function unitHealed(ctx: DrillContext, node: StackNode, unit: string): void {
  ctx.undo.delete(unitKey(node, unit));
}

export interface LinkInfo {
  iface: string;
  gateway: string | null;
}

/** The interface holding the node's address and its default gateway (read before the fault). */
export async function linkInfo(ctx: DrillContext, node: StackNode): Promise<LinkInfo> {
  const addrs = await pctExec(ctx.pct, node.vmid, ["ip", "-o", "-4", "addr", "show"]);
  const iface = interfaceOf(addrs, node.ip);
  const routes = await pctExec(ctx.pct, node.vmid, ["ip", "-4", "route", "show", "default"]);
  return { iface, gateway: defaultGateway(routes, iface) };
}

export async function setLinkUp(ctx: DrillContext, node: StackNode, link: LinkInfo): Promise<void> {
  await pctExec(ctx.pct, node.vmid, ["sh", "-c", linkUpScript(link.iface, link.gateway)]);
  ctx.undo.delete(linkKey(node));
}

/**
 * Takes the node's link down for `seconds`; a detached shell inside the container brings it up
 * again by itself, and the drill's undo sets it up too if the drill is interrupted first.
 */
export async function linkDownFor(
  ctx: DrillContext,
  node: StackNode,
  link: LinkInfo,
  seconds: number,
): Promise<void> {
  ctx.undo.set(linkKey(node), () => setLinkUp(ctx, node, link));
  await pctExec(ctx.pct, node.vmid, [
    "setsid",
    "-f",
    "sh",
    "-c",
    linkDownScript(link.iface, seconds, link.gateway),
  ]);
}

/** true when the interface is administratively up again (its flags list UP). */
export async function linkIsUp(
  ctx: DrillContext,
  node: StackNode,
  link: LinkInfo,
): Promise<boolean> {
  const out = await pctExec(ctx.pct, node.vmid, ["ip", "-o", "link", "show", "dev", link.iface], {
    timeoutMs: 10_000,
  });
  return /<[^>]*\bUP\b[^>]*>/.test(out);
}

/** The link came back (by itself or by setLinkUp): nothing left to undo. */
export function linkHealed(ctx: DrillContext, node: StackNode): void {
  ctx.undo.delete(linkKey(node));
}

/** Runs every pending undo step (interrupt, crash); returns what it did, one line per step. */
export async function undoAll(ctx: DrillContext): Promise<string[]> {
  const out: string[] = [];
  for (const [key, undo] of [...ctx.undo]) {
    try {
      await undo();
      ctx.undo.delete(key);
      out.push(`undone ${key}`);
    } catch (e) {
      out.push(`undo ${key} failed: ${(e as Error).message}`);
    }
  }
  return out;
}

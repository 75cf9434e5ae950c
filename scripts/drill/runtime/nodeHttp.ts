import { nodesByRole, type StackNode } from "../outputs";
import { parseRawHttpReply, renderRawHttpScript, type RawHttpRequest } from "../security/rawHttp";
import type { DrillContext } from "./context";
import { http, type HttpReply } from "./http";

/** One plain HTTP request sent from inside `from` (pct exec); status 0 when it got no answer. */
export async function httpFromNode(
  ctx: DrillContext,
  from: StackNode,
  req: RawHttpRequest,
): Promise<HttpReply> {
  const started = Date.now();
  const r = await ctx.pct.run(
    ["exec", String(from.vmid), "--", "bash", "-c", renderRawHttpScript(req)],
    {
      stdin: req.body ?? "",
      timeoutMs: (req.timeoutS + 10) * 1000,
    },
  );
  const reply = parseRawHttpReply(r.stdout);
  return {
    status: reply.status,
    servedBy: reply.headers["x-served-by"] ?? "",
    text: reply.status === 0 ? r.stderr.trim().slice(-200) : reply.body,
    ms: Date.now() - started,
  };
}

/**
 * A node the app nodes take HTTP from (exposure: the LBs and the monitor), other than the ones
 * named in `avoid`: the monitor first, else an LB.
 */
export function appClientNode(
  ctx: DrillContext,
  avoid: ReadonlySet<string> = new Set(),
): StackNode {
  const candidates = [...nodesByRole(ctx.outputs, "monitor"), ...nodesByRole(ctx.outputs, "nginx")];
  const node = candidates.find((n) => !avoid.has(n.name));
  if (!node) throw new Error("no monitor or LB node left to reach the app nodes from");
  return node;
}

/**
 * GET `path` of an app node on its own port: from this machine while the containers have no
 * firewall, else from inside a node the exposure rules let in (the app port is not the operators').
 */
export async function appNodeGet(
  ctx: DrillContext,
  node: StackNode,
  path: string,
  timeoutMs = 10_000,
  avoid?: ReadonlySet<string>,
): Promise<HttpReply> {
  const port = ctx.outputs.settings.appPort;
  if (!ctx.outputs.settings.containerFirewall) {
    return http(`http://${node.ip}:${port}${path}`, { timeoutMs });
  }
  return httpFromNode(ctx, appClientNode(ctx, avoid), {
    ip: node.ip,
    port,
    method: "GET",
    path,
    timeoutS: Math.max(1, Math.ceil(timeoutMs / 1000)),
  });
}

import type { LbSplitResult, SequentialTrial } from "../types";
import type { DrillContext } from "../runtime/context";
import { http } from "../runtime/http";
import { runLoad } from "../runtime/load";
import { cpuPercent, cpuSnapshot } from "../runtime/cgroup";
import { appPort, nodeNamed } from "../outputs";

const SEQUENTIAL_TRIALS = [4, 6, 10];

/** Scenario 1: the paper's sequential trials, then N requests at concurrency c via the LB and direct. */
export async function lbSplit(ctx: DrillContext): Promise<LbSplitResult> {
  const appNodes = ctx.appNodes.map((n) => n.name);
  const sequential: SequentialTrial[] = [];
  for (const [i, requests] of SEQUENTIAL_TRIALS.entries()) {
    const servedBy: Record<string, number> = {};
    let ok = 0;
    for (let r = 0; r < requests; r++) {
      const reply = await http(ctx.outputs.lbUrl);
      if (reply.status === 200) ok++;
      if (reply.servedBy) servedBy[reply.servedBy] = (servedBy[reply.servedBy] ?? 0) + 1;
    }
    sequential.push({ trial: i + 1, requests, ok, servedBy });
  }
  ctx.log(`  sequential trials: ${sequential.map((t) => JSON.stringify(t.servedBy)).join(" ")}`);
  const watched = [...ctx.appNodes, nodeNamed(ctx.outputs, "lb")];
  const before = await cpuSnapshot(ctx, watched);
  const viaLb = await runLoad({
    label: `via LB (c=${ctx.opts.concurrency})`,
    url: ctx.outputs.lbUrl,
    method: "GET",
    connections: ctx.opts.concurrency,
    amount: ctx.opts.requests,
  });
  const cpuPct = cpuPercent(before, await cpuSnapshot(ctx, watched));
  ctx.log(
    `  via LB: ${viaLb.summary.ok}/${viaLb.summary.requests} ok, p99 ${viaLb.summary.p99Ms} ms`,
  );
  const first = ctx.appNodes[0];
  if (ctx.outputs.settings.containerFirewall) {
    ctx.log(
      "  direct: not run (containerFirewall: the app port only takes the LBs and the monitor)",
    );
    return {
      appNodes,
      lbAlgorithm: ctx.outputs.settings.lbAlgorithm,
      sequential,
      viaLb: viaLb.summary,
      direct: null,
      cpuPct,
    };
  }
  const direct = await runLoad({
    label: `direct to ${first.name} (c=${ctx.opts.concurrency})`,
    url: `http://${first.ip}:${appPort(ctx.outputs)}/`,
    method: "GET",
    connections: ctx.opts.concurrency,
    amount: ctx.opts.requests,
  });
  ctx.log(
    `  direct: ${direct.summary.ok}/${direct.summary.requests} ok, p99 ${direct.summary.p99Ms} ms`,
  );
  return {
    appNodes,
    lbAlgorithm: ctx.outputs.settings.lbAlgorithm,
    sequential,
    viaLb: viaLb.summary,
    direct: direct.summary,
    cpuPct,
  };
}

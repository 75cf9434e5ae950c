import type { ObservabilityResult } from "../types";
import type { DrillContext } from "../runtime/context";
import { runLoad } from "../runtime/load";
import { instantQuery, queryScrapeFigures } from "../runtime/prometheus";
import { uidSeries } from "../uid";
import { lbWriteLoad } from "./faultRun";

/**
 * Scenario 5: every target up; per job, p50/p99/max of every successful scrape taken while a
 * steady write load (the drills' write rate, through the LB) ran for --scrape-window seconds
 * (Prometheus' raw samples of scrape_duration_seconds joined with up), and each node's max load.
 * A window of its own, so the figures describe the running stack, not its start-up or a fault.
 */
export async function observabilityDrill(ctx: DrillContext): Promise<ObservabilityResult> {
  const url = ctx.outputs.prometheusUrl;
  const series = uidSeries(ctx.runId, ctx.nextPhase());
  const startMs = Date.now();
  const load = await runLoad(
    lbWriteLoad(ctx, {
      label: `scrape window: ${ctx.opts.writeRate} req/s for ${ctx.opts.scrapeWindowSeconds} s`,
      durationS: ctx.opts.scrapeWindowSeconds,
      post: (n) => ({ uid: series.uid(n), body: `scrape window #${n}` }),
    }),
  );
  const endMs = Date.now();
  const windowS = Math.floor((endMs - startMs) / 1000);
  const { targets, scrape } = await queryScrapeFigures(url, windowS, endMs);
  const load1Max: Record<string, number | null> = {};
  for (const s of await instantQuery(url, `max_over_time(node_load1[${windowS}s])`, endMs)) {
    const name = s.labels.node ?? s.labels.instance ?? "?";
    load1Max[name] = s.values.length ? Math.max(...s.values.map(([, v]) => v)) : null;
  }
  ctx.log(
    `  ${targets.length} targets, ${targets.filter((t) => t.health === "up").length} up; ${load.summary.ok}/${load.summary.requests} writes ok over ${windowS} s; jobs ${scrape.map((s) => s.job).join(",")}`,
  );
  return {
    targets,
    scrape,
    windowS,
    load1Max,
    load: load.summary,
  };
}

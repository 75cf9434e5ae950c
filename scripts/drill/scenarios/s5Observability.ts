import type { ObservabilityResult } from "../types";
import type { DrillContext } from "../runtime/context";
import { instantQuery, queryScrapeFigures } from "../runtime/prometheus";

const WINDOW_S = 15 * 60;

/**
 * Scenario 5: every target up; per job, p50/p99/max of every successful scrape of the last 15 min
 * (Prometheus' raw samples of scrape_duration_seconds joined with up), and each node's max load.
 */
export async function observabilityDrill(ctx: DrillContext): Promise<ObservabilityResult> {
  const url = ctx.outputs.prometheusUrl;
  const endMs = Date.now();
  const { targets, scrape } = await queryScrapeFigures(url, WINDOW_S, endMs);
  const load1Max: Record<string, number | null> = {};
  for (const s of await instantQuery(url, `max_over_time(node_load1[${WINDOW_S}s])`, endMs)) {
    const name = s.labels.node ?? s.labels.instance ?? "?";
    load1Max[name] = s.values.length ? Math.max(...s.values.map(([, v]) => v)) : null;
  }
  ctx.log(
    `  ${targets.length} targets, ${targets.filter((t) => t.health === "up").length} up; jobs ${scrape.map((s) => s.job).join(",")}`,
  );
  return { targets, scrape, windowS: WINDOW_S, load1Max };
}

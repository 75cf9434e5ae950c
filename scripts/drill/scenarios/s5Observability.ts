import { parseQueryResult, parseTargets, samplesByLabel, type Series } from "../parse/prometheus";
import { percentile } from "../stats";
import type { ObservabilityResult, ScrapeFigure } from "../types";
import type { DrillContext } from "../runtime/context";
import { getJson } from "../runtime/http";

const WINDOW_S = 15 * 60;
const STEP_S = 15;
/** Durations of successful scrapes only: a stopped container's failed scrapes say nothing of cost. */
export const SUCCESSFUL_SCRAPES = "scrape_duration_seconds and on (job, instance) up == 1";

async function queryRange(
  ctx: DrillContext,
  query: string,
  startS: number,
  endS: number,
): Promise<Series[]> {
  const base = ctx.outputs.prometheusUrl.replace(/\/+$/, "");
  const q = new URLSearchParams({
    query,
    start: String(startS),
    end: String(endS),
    step: `${STEP_S}s`,
  });
  return parseQueryResult(await getJson(`${base}/api/v1/query_range?${q.toString()}`));
}

/** Scenario 5: every target up; scrape durations per job (p50/max) from Prometheus itself. */
export async function observabilityDrill(ctx: DrillContext): Promise<ObservabilityResult> {
  const base = ctx.outputs.prometheusUrl.replace(/\/+$/, "");
  const targets = parseTargets(await getJson(`${base}/api/v1/targets?state=active`));
  const endS = Math.floor(Date.now() / 1000);
  const startS = endS - WINDOW_S;
  const durations = samplesByLabel(await queryRange(ctx, SUCCESSFUL_SCRAPES, startS, endS), "job");
  const scrape: ScrapeFigure[] = Object.entries(durations)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([job, values]) => {
      const ofJob = targets.filter((t) => t.job === job);
      const timeouts = ofJob.map((t) => t.scrapeTimeoutS).filter(Number.isFinite);
      return {
        job,
        targets: ofJob.length,
        p50Ms: values.length ? percentile(values, 50) * 1000 : null,
        maxMs: values.length ? Math.max(...values) * 1000 : null,
        samples: values.length,
        timeoutMs: timeouts.length ? Math.min(...timeouts) * 1000 : null,
      };
    });
  const load1Max: Record<string, number | null> = {};
  for (const s of await queryRange(ctx, "node_load1", startS, endS)) {
    const name = s.labels.node ?? s.labels.instance ?? "?";
    load1Max[name] = s.values.length ? Math.max(...s.values.map(([, v]) => v)) : null;
  }
  ctx.log(
    `  ${targets.length} targets, ${targets.filter((t) => t.health === "up").length} up; jobs ${scrape.map((s) => s.job).join(",")}`,
  );
  return { targets, scrape, windowS: WINDOW_S, load1Max };
}

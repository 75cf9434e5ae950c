import {
  parseQueryResult,
  parseTargets,
  type Series,
  type TargetHealth,
} from "../parse/prometheus";
import { parseAlertmanagerAlerts, parsePrometheusAlerts, type SeenAlert } from "../parse/alerts";
import { scrapeFigures, scrapeQueries } from "../scrapeFigures";
import type { ScrapeFigure } from "../types";
import { getJson } from "./http";

const base = (prometheusUrl: string): string => prometheusUrl.replace(/\/+$/, "");

/** GET /api/v1/targets?state=active */
export async function activeTargets(prometheusUrl: string): Promise<TargetHealth[]> {
  return parseTargets(await getJson(`${base(prometheusUrl)}/api/v1/targets?state=active`));
}

/** GET /api/v1/alerts: pending and firing alerts. */
export async function prometheusAlerts(prometheusUrl: string): Promise<SeenAlert[]> {
  return parsePrometheusAlerts(await getJson(`${base(prometheusUrl)}/api/v1/alerts`));
}

/** GET /api/v2/alerts of Alertmanager: every alert not resolved (active, suppressed, …). */
export async function alertmanagerAlerts(alertmanagerUrl: string): Promise<SeenAlert[]> {
  return parseAlertmanagerAlerts(await getJson(`${base(alertmanagerUrl)}/api/v2/alerts`));
}

/** An instant query evaluated at `timeMs` (a range selector returns the raw samples). */
export async function instantQuery(
  prometheusUrl: string,
  query: string,
  timeMs: number,
): Promise<Series[]> {
  const q = new URLSearchParams({ query, time: (timeMs / 1000).toFixed(3) });
  return parseQueryResult(await getJson(`${base(prometheusUrl)}/api/v1/query?${q.toString()}`));
}

/**
 * Per-job figures of every scrape in the `windowS` seconds ending at `endMs` (both queries are
 * evaluated at the same instant, so their samples join on timestamp).
 */
export async function queryScrapeFigures(
  prometheusUrl: string,
  windowS: number,
  endMs: number,
): Promise<{ targets: TargetHealth[]; scrape: ScrapeFigure[] }> {
  const q = scrapeQueries(windowS);
  const [targets, durations, up] = await Promise.all([
    activeTargets(prometheusUrl),
    instantQuery(prometheusUrl, q.durations, endMs),
    instantQuery(prometheusUrl, q.up, endMs),
  ]);
  return { targets, scrape: scrapeFigures(durations, up, targets) };
}

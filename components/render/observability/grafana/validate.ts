import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { stringify } from "yaml";
import { knownMetricNames } from "../exporterMetrics";
import { metricNames, substituteGrafanaVariables } from "../promql";
import { GRAFANA_DATASOURCE_UID } from "./datasource";

/** A panel as found in the dashboard JSON (rows nest their panels when collapsed). */
interface PanelLike {
  type?: string;
  title?: string;
  datasource?: { uid?: string; type?: string };
  targets?: { refId?: string; expr?: string; datasource?: { uid?: string } }[];
  gridPos?: { x: number; y: number; w: number; h: number };
  panels?: PanelLike[];
}

function flatPanels(d: dashboard.Dashboard): PanelLike[] {
  const out: PanelLike[] = [];
  for (const p of (d.panels ?? []) as PanelLike[]) {
    out.push(p);
    out.push(...(p.panels ?? []));
  }
  return out;
}

/** Every PromQL expression of the dashboard, in panel order. */
export function dashboardExpressions(d: dashboard.Dashboard): string[] {
  return flatPanels(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ""));
}

/**
 * Offline checks Grafana would otherwise only reveal in the browser: the dashboard shape, every
 * panel and query on the provisioned datasource uid, every query non-empty and using only metric
 * names some configured exporter exports. Returns every problem found.
 */
export function validateDashboard(d: dashboard.Dashboard): string[] {
  const problems: string[] = [];
  const where = `dashboard ${d.uid ?? "(no uid)"}`;
  if (!d.uid || !/^[a-z0-9-]{1,40}$/.test(d.uid)) problems.push(`${where}: bad uid`);
  if (!d.title) problems.push(`${where}: no title`);
  if (!Number.isInteger(d.schemaVersion)) problems.push(`${where}: no schemaVersion`);
  const known = knownMetricNames();
  const panels = flatPanels(d);
  if (panels.filter((p) => p.type !== "row").length === 0) problems.push(`${where}: no panels`);
  for (const p of panels) {
    const at = `${where} panel "${p.title ?? "?"}"`;
    if (!p.type) problems.push(`${at}: no type`);
    if (!p.gridPos || p.gridPos.w < 1 || p.gridPos.w > 24 || p.gridPos.h < 1) {
      problems.push(`${at}: bad gridPos`);
    }
    if (p.type === "row") continue;
    if (p.datasource?.uid !== GRAFANA_DATASOURCE_UID) {
      problems.push(`${at}: datasource uid is ${String(p.datasource?.uid)}`);
    }
    const targets = p.targets ?? [];
    if (targets.length === 0) problems.push(`${at}: no queries`);
    const refIds = new Set<string>();
    for (const t of targets) {
      if (!t.refId || refIds.has(t.refId)) problems.push(`${at}: missing or duplicate refId`);
      refIds.add(t.refId ?? "");
      if (t.datasource?.uid !== GRAFANA_DATASOURCE_UID) {
        problems.push(`${at}: query ${t.refId} datasource uid is ${String(t.datasource?.uid)}`);
      }
      if (!t.expr || t.expr.trim() === "") {
        problems.push(`${at}: query ${t.refId} has no expression`);
        continue;
      }
      for (const name of metricNames(t.expr)) {
        if (!known.has(name)) problems.push(`${at}: unknown metric ${name} in ${t.expr}`);
      }
    }
  }
  return problems;
}

/**
 * A rule file with one recording rule per expression, so `promtool check rules` parses every
 * dashboard query with the real PromQL parser.
 */
export function renderExpressionCheckRules(exprs: string[]): string {
  return stringify(
    {
      groups: [
        {
          name: "dashboard-expressions",
          rules: exprs.map((expr, i) => ({
            record: `pve_ha:dashboard_expression:${i}`,
            expr: substituteGrafanaVariables(expr),
          })),
        },
      ],
    },
    { lineWidth: 0 },
  );
}

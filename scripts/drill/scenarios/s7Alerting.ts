import {
  alertMilestones,
  matches,
  unexpectedFiring,
  type AlertObservation,
  type ExpectedAlert,
} from "../alertTimeline";
import { parseAlertmanagerAlerts, parsePrometheusAlerts } from "../parse/alerts";
import type { StackNode } from "../outputs";
import type { AlertingResult } from "../types";
import type { DrillContext } from "../runtime/context";
import { getJson, sleep } from "../runtime/http";

const POLL_MS = 2000;
/** Bounds: TargetDown has `for: 1m` on a 15 s scrape and evaluation interval. */
export const FIRE_BOUND_S = 240;
export const RESOLVE_BOUND_S = 180;

/** The alerts a stopped app node and a stopped standby must raise (rules in alerts.ts). */
export function expectedAlerts(app: string, standby: string, primary: string): ExpectedAlert[] {
  // TargetDown is a warning: the node's critical alert inhibits it in Alertmanager.
  return [
    { alert: "LbBackendDown", node: app, alertmanagerState: "active" },
    { alert: "TargetDown", node: app, alertmanagerState: "suppressed" },
    { alert: "PostgresDown", node: standby, alertmanagerState: "active" },
    { alert: "TargetDown", node: standby, alertmanagerState: "suppressed" },
    { alert: "PostgresPrimaryWithoutStreamingStandby", node: primary, alertmanagerState: "active" },
  ];
}

async function observe(ctx: DrillContext, t: number): Promise<AlertObservation> {
  const prom = ctx.outputs.prometheusUrl.replace(/\/+$/, "");
  const am = ctx.outputs.alertmanagerUrl.replace(/\/+$/, "");
  const [p, a] = await Promise.all([
    getJson(`${prom}/api/v1/alerts`),
    getJson(`${am}/api/v2/alerts`),
  ]);
  return { t, prometheus: parsePrometheusAlerts(p), alertmanager: parseAlertmanagerAlerts(a) };
}

async function setRunning(ctx: DrillContext, nodes: StackNode[], running: boolean): Promise<void> {
  for (const n of nodes) {
    if (!running) ctx.stopped.add(n.vmid);
    const r = await ctx.pct.run([running ? "start" : "stop", String(n.vmid)]);
    if (r.code !== 0) {
      throw new Error(`pct ${running ? "start" : "stop"} ${n.vmid} failed: ${r.stderr.trim()}`);
    }
    if (running) ctx.stopped.delete(n.vmid);
    ctx.log(`  ${running ? "started" : "stopped"} ${n.name}`);
  }
}

/**
 * Scenario 7: stop an app node and the standby; the matching alerts must fire in Prometheus and
 * reach Alertmanager; after both are started again every one of them must resolve.
 */
export async function alertingDrill(ctx: DrillContext): Promise<AlertingResult> {
  const app = ctx.appNodes[ctx.appNodes.length - 1];
  const faults = [app, ctx.pgStandby];
  const expected = expectedAlerts(app.name, ctx.pgStandby.name, ctx.pgPrimary.name);
  const before = await observe(ctx, -1);
  const already = expected.filter((e) => before.prometheus.some((a) => matches(a, e)));
  if (already.length > 0) {
    throw new Error(
      `alerts already active before the fault: ${already.map((e) => `${e.alert}{node=${e.node}}`).join(", ")}`,
    );
  }
  const observations: AlertObservation[] = [before];
  let restoredAtS: number | null = null;
  const t0 = Date.now();
  const since = (): number => (Date.now() - t0) / 1000;
  const allSeen = (key: "firingS" | "alertmanagerS" | "resolvedPrometheusS"): boolean =>
    alertMilestones(expected, observations, restoredAtS).every((m) =>
      key === "resolvedPrometheusS"
        ? m.resolvedPrometheusS !== null && m.resolvedAlertmanagerS !== null
        : m[key] !== null,
    );
  await setRunning(ctx, faults, false);
  try {
    while (since() < FIRE_BOUND_S && !(allSeen("firingS") && allSeen("alertmanagerS"))) {
      await sleep(POLL_MS);
      observations.push(await observe(ctx, since()));
    }
  } finally {
    await setRunning(ctx, faults, true);
    restoredAtS = since();
  }
  const resolveUntil = restoredAtS + RESOLVE_BOUND_S;
  while (since() < resolveUntil && !allSeen("resolvedPrometheusS")) {
    await sleep(POLL_MS);
    observations.push(await observe(ctx, since()));
  }
  const milestones = alertMilestones(expected, observations, restoredAtS);
  for (const m of milestones) {
    const s = (v: number | null): string => (v === null ? "never" : `${v.toFixed(0)} s`);
    ctx.log(
      `  ${m.alert}{node=${m.node}}: firing ${s(m.firingS)}, in Alertmanager ${s(m.alertmanagerS)}, resolved ${s(m.resolvedPrometheusS)} / ${s(m.resolvedAlertmanagerS)}`,
    );
  }
  return {
    stopped: faults.map((n) => n.name),
    restoredAtS,
    polls: observations.length,
    fireBoundS: FIRE_BOUND_S,
    resolveBoundS: RESOLVE_BOUND_S,
    milestones,
    unexpected: unexpectedFiring(expected, observations),
  };
}

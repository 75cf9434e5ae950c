import {
  alertMilestones,
  matches,
  unexpectedFiring,
  type AlertMilestones,
  type AlertObservation,
  type ExpectedAlert,
} from "../alertTimeline";
import type { StackNode } from "../outputs";
import type { AlertingResult } from "../types";
import type { DrillContext } from "../runtime/context";
import { sleep } from "../runtime/http";
import { setNodeRunning } from "../runtime/nodes";
import { alertmanagerAlerts, prometheusAlerts } from "../runtime/prometheus";

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
  const [prometheus, alertmanager] = await Promise.all([
    prometheusAlerts(ctx.outputs.prometheusUrl),
    alertmanagerAlerts(ctx.outputs.alertmanagerUrl),
  ]);
  return { t, prometheus, alertmanager };
}

async function setRunning(ctx: DrillContext, nodes: StackNode[], running: boolean): Promise<void> {
  for (const n of nodes) {
    const r = await setNodeRunning(ctx, n, running);
    if (r.code !== 0) {
      throw new Error(`pct ${running ? "start" : "stop"} ${n.vmid} failed: ${r.stderr.trim()}`);
    }
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
  const all = (done: (m: AlertMilestones) => boolean): boolean =>
    alertMilestones(expected, observations, restoredAtS).every(done);
  const raised = (m: AlertMilestones): boolean => m.firingS !== null && m.alertmanagerS !== null;
  const resolved = (m: AlertMilestones): boolean =>
    m.resolvedPrometheusS !== null && m.resolvedAlertmanagerS !== null;
  await setRunning(ctx, faults, false);
  try {
    while (since() < FIRE_BOUND_S && !all(raised)) {
      await sleep(POLL_MS);
      observations.push(await observe(ctx, since()));
    }
  } finally {
    await setRunning(ctx, faults, true);
    restoredAtS = since();
  }
  const resolveUntil = restoredAtS + RESOLVE_BOUND_S;
  while (since() < resolveUntil && !all(resolved)) {
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

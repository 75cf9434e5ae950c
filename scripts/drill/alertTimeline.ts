import type { SeenAlert } from "./parse/alerts";

/**
 * An alert the drill expects: its name, the node label it must carry and its state in
 * Alertmanager ("suppressed" when a critical alert of the same node inhibits it).
 */
export interface ExpectedAlert {
  alert: string;
  node: string;
  alertmanagerState: "active" | "suppressed";
}

/** One poll of both APIs, `t` in seconds since the fault (negative: before it). */
export interface AlertObservation {
  t: number;
  prometheus: SeenAlert[];
  alertmanager: SeenAlert[];
}

/** When an expected alert did what, in seconds since the fault (null: never seen). */
export interface AlertMilestones extends ExpectedAlert {
  pendingS: number | null;
  firingS: number | null;
  alertmanagerS: number | null;
  /** first poll after the restore with the alert gone from Prometheus (pending or firing) */
  resolvedPrometheusS: number | null;
  /** first poll after the restore with the alert gone from Alertmanager's list */
  resolvedAlertmanagerS: number | null;
}

/** Seconds from the restore to `t` (null when either did not happen). */
export function afterRestoreS(t: number | null, restoredAtS: number | null): number | null {
  return t === null || restoredAtS === null ? null : t - restoredAtS;
}

export function matches(a: SeenAlert, e: ExpectedAlert): boolean {
  return a.name === e.alert && a.labels.node === e.node;
}

/**
 * Milestones of every expected alert from the polls, given when the node was started again.
 * Resolution counts only once the alert had fired and the node was back.
 */
export function alertMilestones(
  expected: readonly ExpectedAlert[],
  observations: readonly AlertObservation[],
  restoredAtS: number | null,
): AlertMilestones[] {
  const polls = [...observations].sort((a, b) => a.t - b.t);
  return expected.map((e) => {
    const m: AlertMilestones = {
      ...e,
      pendingS: null,
      firingS: null,
      alertmanagerS: null,
      resolvedPrometheusS: null,
      resolvedAlertmanagerS: null,
    };
    for (const o of polls) {
      if (o.t < 0) continue;
      const inProm = o.prometheus.filter((a) => matches(a, e));
      const inAm = o.alertmanager.filter((a) => matches(a, e));
      const inAmAsExpected = inAm.filter((a) => a.state === e.alertmanagerState);
      if (m.pendingS === null && inProm.length > 0) m.pendingS = o.t;
      if (m.firingS === null && inProm.some((a) => a.state === "firing")) m.firingS = o.t;
      if (m.alertmanagerS === null && inAmAsExpected.length > 0) m.alertmanagerS = o.t;
      const afterRestore = restoredAtS !== null && o.t >= restoredAtS;
      if (afterRestore && m.firingS !== null && m.resolvedPrometheusS === null && !inProm.length) {
        m.resolvedPrometheusS = o.t;
      }
      if (
        afterRestore &&
        m.alertmanagerS !== null &&
        m.resolvedAlertmanagerS === null &&
        inAm.length === 0
      ) {
        m.resolvedAlertmanagerS = o.t;
      }
    }
    return m;
  });
}

/** Names (with node) of firing alerts that were not expected, over every poll after the fault. */
export function unexpectedFiring(
  expected: readonly ExpectedAlert[],
  observations: readonly AlertObservation[],
): string[] {
  const seen = new Set<string>();
  for (const o of observations) {
    if (o.t < 0) continue;
    for (const a of o.prometheus) {
      if (a.state !== "firing" || expected.some((e) => matches(a, e))) continue;
      seen.add(`${a.name}{node=${a.labels.node ?? "?"}}`);
    }
  }
  return [...seen].sort();
}

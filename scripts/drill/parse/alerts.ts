/** One alert as Prometheus (/api/v1/alerts) or Alertmanager (/api/v2/alerts) lists it. */
export interface SeenAlert {
  name: string;
  labels: Record<string, string>;
  /** Prometheus: pending | firing; Alertmanager: active | suppressed | unprocessed */
  state: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function labelsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) out[k] = String(x);
  return out;
}

function toAlert(labels: Record<string, string>, state: string): SeenAlert {
  return { name: labels.alertname ?? "", labels, state };
}

/** Parses GET /api/v1/alerts of Prometheus. */
export function parsePrometheusAlerts(json: unknown): SeenAlert[] {
  if (!isRecord(json) || json.status !== "success" || !isRecord(json.data)) {
    throw new Error(
      `Prometheus alerts: not a success response (got ${JSON.stringify(json).slice(0, 200)})`,
    );
  }
  if (!Array.isArray(json.data.alerts)) throw new Error("Prometheus alerts: no alerts array");
  return json.data.alerts
    .filter(isRecord)
    .map((a) => toAlert(labelsOf(a.labels), String(a.state ?? "")));
}

/** Parses GET /api/v2/alerts of Alertmanager (it lists alerts that are not resolved). */
export function parseAlertmanagerAlerts(json: unknown): SeenAlert[] {
  if (!Array.isArray(json)) {
    throw new Error(
      `Alertmanager alerts: not an array (got ${JSON.stringify(json).slice(0, 200)})`,
    );
  }
  return json
    .filter(isRecord)
    .map((a) =>
      toAlert(labelsOf(a.labels), isRecord(a.status) ? String(a.status.state ?? "") : ""),
    );
}

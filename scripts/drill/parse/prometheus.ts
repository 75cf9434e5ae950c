export interface TargetHealth {
  job: string;
  instance: string;
  health: string;
  lastError: string;
  scrapeTimeoutS: number;
  lastScrapeDurationS: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function successData(json: unknown, what: string): Record<string, unknown> {
  if (!isRecord(json) || json.status !== "success" || !isRecord(json.data)) {
    throw new Error(
      `Prometheus ${what}: not a success response (got ${JSON.stringify(json).slice(0, 200)})`,
    );
  }
  return json.data;
}

/** Parses the JSON of GET /api/v1/targets (active targets). */
export function parseTargets(json: unknown): TargetHealth[] {
  const data = successData(json, "targets");
  if (!Array.isArray(data.activeTargets))
    throw new Error("Prometheus targets: no activeTargets array");
  return data.activeTargets.filter(isRecord).map((t) => {
    const labels = isRecord(t.labels) ? t.labels : {};
    return {
      job: String(labels.job ?? t.scrapePool ?? ""),
      instance: String(labels.instance ?? t.scrapeUrl ?? ""),
      health: String(t.health ?? "unknown"),
      lastError: String(t.lastError ?? ""),
      scrapeTimeoutS: parseDurationS(String(t.scrapeTimeout ?? "")),
      lastScrapeDurationS: Number(t.lastScrapeDuration ?? NaN),
    };
  });
}

/** Prometheus durations such as 10s, 1m30s, 500ms -> seconds (NaN when unparseable). */
export function parseDurationS(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  let matched = "";
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]];
    matched += m[0];
  }
  return matched.length > 0 && matched === text ? total : Number.NaN;
}

export interface Series {
  labels: Record<string, string>;
  /** [unix seconds, value] */
  values: Array<[number, number]>;
}

/** Parses a matrix (query_range) or vector (query) result into series. */
export function parseQueryResult(json: unknown): Series[] {
  const data = successData(json, "query");
  if (!Array.isArray(data.result)) throw new Error("Prometheus query: no result array");
  return data.result.filter(isRecord).map((r) => {
    const labels: Record<string, string> = {};
    if (isRecord(r.metric)) for (const [k, v] of Object.entries(r.metric)) labels[k] = String(v);
    const raw = Array.isArray(r.values) ? r.values : Array.isArray(r.value) ? [r.value] : [];
    const values = raw
      .filter((p): p is [unknown, unknown] => Array.isArray(p) && p.length === 2)
      .map(([t, v]) => [Number(t), Number(v)] as [number, number])
      .filter(([, v]) => Number.isFinite(v));
    return { labels, values };
  });
}

/** Groups every sample of the series by one label (e.g. job). */
export function samplesByLabel(series: readonly Series[], label: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of series) {
    const key = s.labels[label] ?? "";
    (out[key] ??= []).push(...s.values.map(([, v]) => v));
  }
  return out;
}

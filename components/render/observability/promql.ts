/**
 * Small PromQL helpers for offline checks. Full parsing is promtool's job (check-observability.sh
 * feeds every expression to `promtool check rules`); this only finds the metric names used.
 */

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "inf",
  "nan",
]);

/** Grafana variables in our dashboards, replaced by a valid value before parsing. */
export const GRAFANA_VARIABLE_VALUES: Record<string, string> = {
  $__rate_interval: "1m",
  $__interval: "15s",
  $__range: "1h",
};

export function substituteGrafanaVariables(expr: string): string {
  let out = expr;
  for (const [name, value] of Object.entries(GRAFANA_VARIABLE_VALUES)) {
    out = out.split(name).join(value);
  }
  return out;
}

/** Metric names referenced by a PromQL expression (selectors only, not functions or labels). */
export function metricNames(expr: string): string[] {
  const stripped = substituteGrafanaVariables(expr)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  const ident = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  let m: RegExpExecArray | null;
  while ((m = ident.exec(stripped)) !== null) {
    const word = m[0];
    const before = stripped.slice(0, m.index);
    const after = stripped.slice(m.index + word.length);
    if (/^\s*\(/.test(after)) continue; // function call
    if (/[0-9.]$/.test(before)) continue; // duration unit or exponent
    if (KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names].sort();
}

/** What a failover drill records over time; all times are ms since the drill phase started. */
export interface TimelineData {
  title: string;
  durationMs: number;
  /** One entry per finished request: [t, HTTP status] with status 0 for a transport error/timeout. */
  responses: Array<[number, number]>;
  /** Consumer lag samples in messages: [t, lag]. */
  lag: Array<[number, number]>;
  events: Array<{ t: number; label: string }>;
}

export interface Buckets {
  /** bucket start, seconds */
  t: number[];
  ok: number[];
  errors: number[];
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 400;
}

/** Counts successful and failed responses per bucket (default 1 s) over the whole duration. */
export function bucketResponses(
  responses: ReadonlyArray<readonly [number, number]>,
  durationMs: number,
  bucketMs = 1000,
): Buckets {
  const n = Math.max(1, Math.ceil(durationMs / bucketMs));
  const ok = new Array<number>(n).fill(0);
  const errors = new Array<number>(n).fill(0);
  for (const [t, status] of responses) {
    const i = Math.min(n - 1, Math.max(0, Math.floor(t / bucketMs)));
    if (isSuccess(status)) ok[i]++;
    else errors[i]++;
  }
  const scale = 1000 / bucketMs;
  return {
    t: ok.map((_, i) => (i * bucketMs) / 1000),
    ok: ok.map((v) => v * scale),
    errors: errors.map((v) => v * scale),
  };
}

function esc(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** A "nice" axis maximum >= value: 1, 2, 5 x 10^k. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * exp >= value) return m * exp;
  return 10 * exp;
}

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
  xMax: number;
  yMax: number;
}

function px(p: Panel, t: number, v: number): [number, number] {
  return [p.x + (t / p.xMax) * p.w, p.y + p.h - (Math.min(v, p.yMax) / p.yMax) * p.h];
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function axes(p: Panel, yLabel: string): string[] {
  const out: string[] = [
    `<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" fill="#fafafa" stroke="#999"/>`,
    `<text x="${p.x - 46}" y="${p.y + p.h / 2}" transform="rotate(-90 ${p.x - 46} ${p.y + p.h / 2})" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`,
  ];
  const mantissa = p.yMax / 10 ** Math.floor(Math.log10(p.yMax));
  const divisions = mantissa === 2 ? 4 : 5;
  for (let i = 0; i <= divisions; i++) {
    const v = (p.yMax * i) / divisions;
    const [, y] = px(p, 0, v);
    out.push(
      `<line x1="${p.x}" y1="${y.toFixed(1)}" x2="${p.x + p.w}" y2="${y.toFixed(1)}" stroke="#e0e0e0"/>`,
    );
    out.push(
      `<text x="${p.x - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(v)}</text>`,
    );
  }
  const step = niceMax(p.xMax / 8);
  for (let t = 0; t <= p.xMax + 1e-9; t += step) {
    const [x] = px(p, t, 0);
    out.push(
      `<line x1="${x.toFixed(1)}" y1="${p.y + p.h}" x2="${x.toFixed(1)}" y2="${p.y + p.h + 4}" stroke="#999"/>`,
    );
    out.push(
      `<text x="${x.toFixed(1)}" y="${p.y + p.h + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`,
    );
  }
  return out;
}

function polyline(p: Panel, points: Array<[number, number]>, color: string): string {
  if (points.length === 0) return "";
  const d = points
    .map(([t, v]) =>
      px(p, t, v)
        .map((c) => c.toFixed(1))
        .join(","),
    )
    .join(" ");
  return `<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"/>`;
}

/** Renders the timeline as a self-contained SVG: requests/s and errors/s on top, consumer lag below. */
export function renderTimelineSvg(data: TimelineData, bucketMs = 1000): string {
  const W = 960;
  const H = 520;
  const xMax = Math.max(1, data.durationMs / 1000);
  const b = bucketResponses(data.responses, data.durationMs, bucketMs);
  const half = bucketMs / 2000;
  const rpsMax = niceMax(Math.max(...b.ok, ...b.errors, 1));
  const lagMax = niceMax(Math.max(...data.lag.map(([, v]) => v), 1));
  const top: Panel = { x: 70, y: 60, w: W - 100, h: 180, xMax, yMax: rpsMax };
  const bottom: Panel = { x: 70, y: 300, w: W - 100, h: 160, xMax, yMax: lagMax };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold">${esc(data.title)}</text>`,
    `<text x="${top.x}" y="${top.y - 8}" font-size="12">requests/s: <tspan fill="#2e7d32">successful</tspan>, <tspan fill="#c62828">failed</tspan></text>`,
    ...axes(top, "requests/s"),
    `<text x="${bottom.x}" y="${bottom.y - 8}" font-size="12"><tspan fill="#1565c0">consumer lag</tspan> (acknowledged, not yet stored; messages)</text>`,
    ...axes(bottom, "messages"),
    `<text x="${top.x + top.w / 2}" y="${H - 12}" text-anchor="middle" font-size="12">time since start of the drill phase (s)</text>`,
  ];
  b.errors.forEach((e, i) => {
    if (e <= 0) return;
    const [x0, y0] = px(top, b.t[i], e);
    const [x1] = px(top, b.t[i] + bucketMs / 1000, 0);
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${y0.toFixed(1)}" width="${Math.max(1, x1 - x0 - 1).toFixed(1)}" height="${(top.y + top.h - y0).toFixed(1)}" fill="#c62828" fill-opacity="0.8"/>`,
    );
  });
  parts.push(
    polyline(
      top,
      b.t.map((t, i) => [t + half, b.ok[i]]),
      "#2e7d32",
    ),
  );
  parts.push(
    polyline(
      bottom,
      data.lag.map(([t, v]) => [t / 1000, v]),
      "#1565c0",
    ),
  );
  data.events.forEach((ev, i) => {
    const [x] = px(top, ev.t / 1000, 0);
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${top.y}" x2="${x.toFixed(1)}" y2="${bottom.y + bottom.h}" stroke="#6a1b9a" stroke-dasharray="5,4"/>`,
      `<text x="${(x + 4).toFixed(1)}" y="${top.y + 14 + (i % 3) * 14}" font-size="11" fill="#6a1b9a">${esc(ev.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.filter((p) => p.length > 0).join("\n") + "\n";
}

/**
 * The LB's own view of a fault run, from its access log (log_format `upstream` of
 * components/render/nginx.ts): how the POSTs it finished ended, and the slowest. A request the
 * LB never finished is not in the log: a client timeout with no such line was held by the LB or
 * lost between the client and the LB.
 */

export interface LbLogLine {
  /** seconds since the epoch (the log has second resolution) */
  atS: number;
  method: string;
  path: string;
  status: number;
  upstream: string;
  upstreamStatus: string;
  requestTimeS: number;
}

export interface LbView {
  requests: number;
  byStatus: Record<string, number>;
  slowestS: number;
  slowestUpstream: string;
  /** seconds from the window's start to the last request the LB finished */
  lastFinishedAtS: number | null;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LINE =
  /^\S+ \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\] "(\S+) (\S+) [^"]*" (\d{3}) \d+ upstream=(\S*) upstream_status=(\S*) rt=([\d.]+)/;

export function parseLbLogLine(line: string): LbLogLine | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const [, dd, mon, yyyy, hh, mi, ss, zone, method, path, status, upstream, upstreamStatus, rt] = m;
  const month = MONTHS.indexOf(mon);
  if (month < 0) return null;
  const offsetMin =
    (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3)));
  const utcMs = Date.UTC(Number(yyyy), month, Number(dd), Number(hh), Number(mi), Number(ss));
  return {
    atS: utcMs / 1000 - offsetMin * 60,
    method,
    path,
    status: Number(status),
    upstream,
    upstreamStatus,
    requestTimeS: Number(rt),
  };
}

/** The POSTs to `path` the LB finished within [fromS, toS] (epoch seconds, inclusive). */
export function lbView(logText: string, path: string, fromS: number, toS: number): LbView {
  const view: LbView = {
    requests: 0,
    byStatus: {},
    slowestS: 0,
    slowestUpstream: "",
    lastFinishedAtS: null,
  };
  for (const raw of logText.split("\n")) {
    const line = parseLbLogLine(raw);
    if (!line || line.method !== "POST" || line.path !== path) continue;
    if (line.atS < Math.floor(fromS) || line.atS > toS) continue;
    view.requests++;
    view.byStatus[line.status] = (view.byStatus[line.status] ?? 0) + 1;
    if (line.requestTimeS > view.slowestS) {
      view.slowestS = line.requestTimeS;
      view.slowestUpstream = `${line.upstream} (${line.upstreamStatus})`;
    }
    view.lastFinishedAtS = Math.max(view.lastFinishedAtS ?? 0, line.atS - fromS);
  }
  return view;
}

export function lbViewText(v: LbView): string {
  const statuses = Object.entries(v.byStatus)
    .map(([s, n]) => `${s}×${n}`)
    .join(" ");
  if (v.requests === 0) return "the LB logged no POST in the window";
  return `the LB logged ${v.requests} POSTs (${statuses}), slowest ${v.slowestS.toFixed(1)} s via ${v.slowestUpstream}, last finished at +${(v.lastFinishedAtS ?? 0).toFixed(0)} s`;
}

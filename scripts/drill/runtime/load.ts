import type { IncomingHttpHeaders } from "node:http";
import autocannon from "autocannon";
import type { LoadSummary } from "../types";
import { http } from "./http";

export interface LoadSpec {
  label: string;
  url: string;
  method: "GET" | "POST";
  connections: number;
  /** total requests; when absent the load runs for durationS */
  amount?: number;
  durationS?: number;
  /** requests/s over all connections */
  overallRate?: number;
  timeoutS?: number;
  /** POST: the idempotency key and text of request number `seq` */
  post?: (seq: number) => { uid: string; body: string };
  /** times in the result are ms since this instant (default: the start of the load) */
  t0?: number;
  /** the scheduled load sends no further request once this is true (durationS stays its bound) */
  stopWhen?: () => boolean;
}

/** Filled while the load runs, so a sampler can read the acknowledgements so far. */
export interface LoadRecorder {
  /** [t, status] per finished request; status 0 = transport error or timeout */
  responses: Array<[number, number]>;
  /** [t, uid] per acknowledged (2xx) POST */
  acked: Array<[number, string]>;
  sent: string[];
  /** failed requests by cause: `HTTP <status>`, `timeout` or the transport error's code */
  failures: Record<string, number>;
  /** when each failed request was sent, ms since t0 (the scheduled load records it) */
  failedSentAt?: number[];
}

export function newRecorder(): LoadRecorder {
  return { responses: [], acked: [], sent: [], failures: {} };
}

/** The cause of a failed request as the report names it. */
export function failureKind(status: number | null, error?: Error & { code?: string }): string {
  if (status !== null) return `HTTP ${status}`;
  if (error?.message === "request timed out") return "timeout";
  return error?.code ?? error?.message ?? "error";
}

export interface LoadRun extends LoadRecorder {
  summary: LoadSummary;
}

interface ClientContext {
  uid?: string;
}

const HARD_LIMIT_S = 600;

/** X-Served-By from autocannon's headers object, whose keys keep the server's spelling. */
export function servedByHeader(headers: IncomingHttpHeaders | undefined): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() === "x-served-by") return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/**
 * Runs one bounded autocannon load and records every response for the timeline. autocannon never
 * verifies a certificate, so an https target is first asked once with verification on (the LBs'
 * own certificates trusted by name, runtime/http.ts): a load never starts against a server whose
 * certificate the drill does not accept.
 */
export function runLoad(spec: LoadSpec, rec: LoadRecorder = newRecorder()): Promise<LoadRun> {
  if (!spec.url.startsWith("https://")) return startLoad(spec, rec);
  return http(spec.url, { timeoutMs: 5000 }).then((r) => {
    if (r.status === 0) {
      throw new Error(`load ${spec.label}: ${spec.url} did not verify or answer: ${r.text}`);
    }
    return startLoad(spec, rec);
  });
}

function startLoad(spec: LoadSpec, rec: LoadRecorder): Promise<LoadRun> {
  if (!spec.amount && !spec.durationS)
    throw new Error(`load ${spec.label}: needs amount or durationS`);
  const t0 = spec.t0 ?? Date.now();
  const { responses, acked, sent, failures } = rec;
  const fail = (kind: string): void => void (failures[kind] = (failures[kind] ?? 0) + 1);
  const servedBy: Record<string, number> = {};
  let seq = 0;
  const request: autocannon.Request = {
    method: spec.method,
    setupRequest: (req: autocannon.Request, context: object) => {
      const ctx = context as ClientContext;
      if (!spec.post) return req;
      const { uid, body } = spec.post(seq++);
      ctx.uid = uid;
      sent.push(uid);
      return {
        ...req,
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": uid },
        body: JSON.stringify({ body }),
      };
    },
    onResponse: (
      status: number,
      _body: string,
      context: object,
      headers: IncomingHttpHeaders | undefined,
    ) => {
      const t = Date.now() - t0;
      responses.push([t, status]);
      const node = servedByHeader(headers);
      if (node) servedBy[node] = (servedBy[node] ?? 0) + 1;
      const uid = (context as ClientContext).uid;
      if (uid && status >= 200 && status < 300) acked.push([t, uid]);
      if (status < 200 || status >= 300) fail(failureKind(status));
    },
  };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Hard time bound whatever the options say; `instance` is read only when the timer fires.
    const guard = setTimeout(() => instance.stop(), HARD_LIMIT_S * 1000);
    const instance = autocannon(
      {
        url: spec.url,
        method: spec.method,
        connections: spec.connections,
        // autocannon rejects keys that are present but undefined
        ...(spec.amount ? { amount: spec.amount } : { duration: spec.durationS }),
        ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
        timeout: spec.timeoutS ?? 10,
        requests: [request],
        excludeErrorStats: false,
      },
      (err, result) => {
        clearTimeout(guard);
        if (err) return reject(new Error(`load ${spec.label}: ${(err as Error).message}`));
        const durationS = (Date.now() - started) / 1000;
        const ok = result["2xx"];
        // autocannon counts a timeout in both `errors` and `timeouts`
        const errors = result.errors;
        const total = ok + result.non2xx + errors;
        resolve({
          responses,
          acked,
          sent,
          failures,
          summary: {
            label: spec.label,
            requests: total,
            ok,
            non2xx: result.non2xx,
            errors,
            successPct: total === 0 ? 0 : (100 * ok) / total,
            p50Ms: result.latency.p50 ?? null,
            p99Ms: result.latency.p99 ?? null,
            rps: durationS > 0 ? total / durationS : null,
            durationS,
            servedBy,
          },
        });
      },
    );
    instance.on("reqError", (e: Error) => {
      responses.push([Date.now() - t0, 0]);
      fail(failureKind(null, e));
    });
  });
}

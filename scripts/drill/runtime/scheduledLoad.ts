import * as http from "node:http";
import * as https from "node:https";
import { drillCa } from "./http";
import type { LoadSummary } from "../types";
import { percentile } from "../stats";
import { failureKind, type LoadRecorder, type LoadRun, type LoadSpec } from "./load";

/**
 * An open-loop load: one request every 1/overallRate s whatever the answers, on at most
 * `connections` keep-alive sockets. Every scheduled request is counted once, so a refused
 * connection is one failed request (a closed-loop client such as autocannon reconnects at once
 * and counts thousands of errors per second while an address refuses). The LB-pair drill uses
 * it: what it reports is how many of a steady client's requests a failover costs.
 */
export function runScheduledLoad(spec: LoadSpec, rec: LoadRecorder): Promise<LoadRun> {
  const rate = spec.overallRate ?? 0;
  const durationS = spec.durationS ?? 0;
  if (rate <= 0 || durationS <= 0) {
    throw new Error(`load ${spec.label}: a scheduled load needs overallRate and durationS`);
  }
  const t0 = spec.t0 ?? Date.now();
  const started = Date.now();
  // https (lbRedirectHttp): the LBs' certificates are trusted by name, verification stays on.
  const tls = spec.url.startsWith("https://");
  const agent = tls
    ? new https.Agent({ keepAlive: true, maxSockets: spec.connections, ca: drillCa() })
    : new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const request = tls ? https.request : http.request;
  const timeoutMs = (spec.timeoutS ?? 10) * 1000;
  const latencies: number[] = [];
  const servedBy: Record<string, number> = {};
  const counts = { ok: 0, non2xx: 0, errors: 0 };
  const total = Math.floor(rate * durationS);
  const fail = (kind: string, sentAt: number): void => {
    rec.failures[kind] = (rec.failures[kind] ?? 0) + 1;
    (rec.failedSentAt ??= []).push(sentAt - t0);
  };

  const one = (seq: number): Promise<void> =>
    new Promise((resolve) => {
      const sentAt = Date.now();
      const post = spec.post?.(seq);
      if (post) rec.sent.push(post.uid);
      const body = post ? JSON.stringify({ body: post.body }) : undefined;
      const req = request(
        spec.url,
        {
          method: spec.method,
          agent,
          signal: AbortSignal.timeout(timeoutMs),
          headers: post
            ? { "content-type": "application/json", "idempotency-key": post.uid }
            : undefined,
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const t = Date.now();
            const status = res.statusCode ?? 0;
            latencies.push(t - sentAt);
            rec.responses.push([t - t0, status]);
            const node = res.headers["x-served-by"];
            if (typeof node === "string") servedBy[node] = (servedBy[node] ?? 0) + 1;
            if (status >= 200 && status < 300) {
              counts.ok++;
              if (post) rec.acked.push([t - t0, post.uid]);
            } else {
              counts.non2xx++;
              fail(failureKind(status), sentAt);
            }
            resolve();
          });
          res.on("error", () => undefined);
        },
      );
      req.on("error", (e: Error & { code?: string }) => {
        counts.errors++;
        rec.responses.push([Date.now() - t0, 0]);
        fail(
          e.name === "TimeoutError" || e.name === "AbortError" ? "timeout" : failureKind(null, e),
          sentAt,
        );
        resolve();
      });
      req.end(body);
    });

  return (async () => {
    const inFlight: Promise<void>[] = [];
    for (let seq = 0; seq < total; seq++) {
      const due = started + (seq * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (spec.stopWhen?.()) break;
      inFlight.push(one(seq));
    }
    await Promise.all(inFlight);
    agent.destroy();
    const tookS = (Date.now() - started) / 1000;
    const requests = counts.ok + counts.non2xx + counts.errors;
    const summary: LoadSummary = {
      label: spec.label,
      requests,
      ok: counts.ok,
      non2xx: counts.non2xx,
      errors: counts.errors,
      successPct: requests === 0 ? 0 : (100 * counts.ok) / requests,
      p50Ms: latencies.length ? percentile(latencies, 50) : null,
      p99Ms: latencies.length ? percentile(latencies, 99) : null,
      rps: tookS > 0 ? requests / tookS : null,
      durationS: tookS,
      servedBy,
    };
    return { ...rec, summary };
  })();
}

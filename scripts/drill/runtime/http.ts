import * as https from "node:https";
import { rootCertificates } from "node:tls";

export interface HttpReply {
  status: number;
  servedBy: string;
  text: string;
  ms: number;
}

export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/**
 * The LBs' certificates, read from the LB nodes at the start of a drill (cli.ts): https requests
 * trust them besides the system's roots. A self-signed LB certificate is accepted this way, by
 * name, and verification stays on for every request.
 */
let lbCertificates: string[] = [];

export function trustLbCertificates(pems: readonly string[]): void {
  lbCertificates = [...pems];
}

/** The CA list of the drill's https requests: the system's roots and the LBs' certificates. */
export function drillCa(): string[] {
  return [...rootCertificates, ...lbCertificates];
}

/** One https request with the drill's trust (verification on). */
function httpsRequest(url: string, init: HttpInit, started: number): Promise<HttpReply> {
  return new Promise((resolve) => {
    const req = https.request(
      url,
      {
        method: init.method ?? "GET",
        headers: init.headers,
        ca: drillCa(),
        signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const served = res.headers["x-served-by"];
          resolve({
            status: res.statusCode ?? 0,
            servedBy: typeof served === "string" ? served : "",
            text: Buffer.concat(chunks).toString("utf8"),
            ms: Date.now() - started,
          });
        });
        res.on("error", (e) => resolve({ status: 0, servedBy: "", text: e.message, ms: 0 }));
      },
    );
    req.on("error", (e) =>
      resolve({ status: 0, servedBy: "", text: e.message, ms: Date.now() - started }),
    );
    req.end(init.body);
  });
}

/** One HTTP(S) request with a timeout; status 0 when the request failed before an answer. */
export async function http(url: string, init: HttpInit = {}): Promise<HttpReply> {
  const started = Date.now();
  if (url.startsWith("https://")) return httpsRequest(url, init, started);
  try {
    const res = await fetch(url, {
      method: init.method ?? "GET",
      headers: init.headers,
      body: init.body,
      redirect: "manual",
      signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      servedBy: res.headers.get("x-served-by") ?? "",
      text,
      ms: Date.now() - started,
    };
  } catch (e) {
    return { status: 0, servedBy: "", text: (e as Error).message, ms: Date.now() - started };
  }
}

/** The Authorization header of HTTP basic auth. */
export function basicAuth(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}
export async function getJson(url: string, timeoutMs = 15_000): Promise<unknown> {
  const r = await http(url, { timeoutMs });
  if (r.status !== 200) throw new Error(`GET ${url}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  return JSON.parse(r.text) as unknown;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined, or the time runs out. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 500,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}

export interface HttpReply {
  status: number;
  servedBy: string;
  text: string;
  ms: number;
}

/** One HTTP request with a timeout; status 0 when the request failed before an answer. */
export async function http(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
  } = {},
): Promise<HttpReply> {
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: init.method ?? "GET",
      headers: init.headers,
      body: init.body,
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

/** HTTP client helpers for the integration tests and the bench (loopback only, bounded). */
import type { AppProcess } from "./app-process";

export interface PostResult {
  status: number;
  servedBy: string | null;
  body: Record<string, unknown>;
}

export async function postMessage(
  app: AppProcess,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<PostResult> {
  const response = await fetch(`${app.url}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, servedBy: response.headers.get("x-served-by"), body: parsed };
}

/**
 * Posts with an idempotency key until the app answers 202, as a careful client does: a 503 or a
 * dropped connection means "not acknowledged", and re-sending the same key cannot duplicate.
 */
export async function postUntilAccepted(
  apps: AppProcess[],
  firstApp: number,
  key: string,
  text: string,
  maxAttempts = 40,
): Promise<{ attempts: number; ackedAt: number }> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const candidates = apps.filter((a) => a.running());
    const app = candidates[(firstApp + attempt - 1) % candidates.length];
    if (!app) throw new Error("no app process is running");
    try {
      const result = await postMessage(app, { body: text }, { "idempotency-key": key });
      if (result.status === 202) return { attempts: attempt, ackedAt: Date.now() };
      if (result.status !== 503) {
        throw new Error(`unexpected ${result.status} for ${key}: ${JSON.stringify(result.body)}`);
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("unexpected")) throw error;
    }
    await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
  }
  throw new Error(`message ${key} not accepted after ${maxAttempts} attempts`);
}

/** Runs `worker(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function runPool(
  count: number,
  concurrency: number,
  worker: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const index = next++;
      await worker(index);
    }
  });
  await Promise.all(lanes);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** Exponential backoff with full jitter, bounded by a deadline or an abort signal. */

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Delay before retry number `attempt` (1-based): random in [base/2, min(max, base*2^(n-1))]. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  const floor = Math.min(ceiling, opts.baseMs / 2);
  return Math.round(floor + (ceiling - floor) * random());
}

export class AbortedError extends Error {
  constructor() {
    super("aborted");
    this.name = "AbortedError";
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryOptions extends BackoffOptions {
  /** Give up (rethrow the last error) once this many ms have passed; undefined = never. */
  deadlineMs?: number;
  /** Give up (rethrow the last error) after this many attempts; undefined = no limit. */
  maxAttempts?: number;
  signal?: AbortSignal;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  now?: () => number;
  random?: () => number;
}

/** Runs `fn` until it resolves; rejects with the last error past the limits or on abort. */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions,
): Promise<T> {
  const now = opts.now ?? Date.now;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (opts.signal?.aborted) throw error;
      if (opts.maxAttempts !== undefined && attempt >= opts.maxAttempts) throw error;
      const delay = backoffDelay(attempt, opts, opts.random);
      if (opts.deadlineMs !== undefined && now() + delay - started > opts.deadlineMs) throw error;
      opts.onRetry?.(error, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** Rejects with a TimeoutError when `promise` has not settled after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `fn` under a hard deadline: after `ms` the returned promise rejects with a TimeoutError
 * even when `fn` is still waiting on I/O, and `fn`'s signal is aborted so it stops retrying. The
 * work in flight is not cancelled (a Kafka produce request cannot be recalled); its outcome is
 * dropped.
 */
export function withDeadline<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new TimeoutError(what, ms));
    }, ms);
  });
  return Promise.race([fn(controller.signal), expired]).finally(() => clearTimeout(timer));
}

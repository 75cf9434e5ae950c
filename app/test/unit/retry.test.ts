import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AbortedError,
  TimeoutError,
  backoffDelay,
  retry,
  sleep,
  withDeadline,
  withTimeout,
} from "../../src/retry";

describe("backoffDelay", () => {
  it("grows exponentially within [base/2, max]", () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    assert.equal(
      backoffDelay(1, opts, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(3, opts, () => 1),
      400,
    );
    assert.equal(
      backoffDelay(10, opts, () => 1),
      1000,
    );
    assert.equal(
      backoffDelay(10, opts, () => 0),
      50,
    );
  });
});

describe("retry", () => {
  const fast = { baseMs: 1, maxMs: 2 };

  it("returns the first success", async () => {
    let calls = 0;
    const value = await retry(async () => {
      calls++;
      if (calls < 3) throw new Error("not yet");
      return "done";
    }, fast);
    assert.equal(value, "done");
    assert.equal(calls, 3);
  });

  it("rethrows the last error after maxAttempts", async () => {
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls++;
          throw new Error(`fail ${calls}`);
        },
        { ...fast, maxAttempts: 4 },
      ),
      /fail 4/,
    );
  });

  it("rethrows once the deadline would pass", async () => {
    let now = 0;
    await assert.rejects(
      retry(
        async () => {
          now += 600;
          throw new Error("down");
        },
        { baseMs: 100, maxMs: 100, deadlineMs: 1000, now: () => now },
      ),
      /down/,
    );
    assert.ok(now <= 1200);
  });

  it("stops waiting when aborted", async () => {
    const controller = new AbortController();
    const pending = retry(
      async () => {
        throw new Error("down");
      },
      { baseMs: 10000, maxMs: 10000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(pending, AbortedError);
  });
});

describe("sleep / withTimeout", () => {
  it("rejects an already aborted sleep", async () => {
    await assert.rejects(sleep(10, AbortSignal.abort()), AbortedError);
  });

  it("times out a promise that never settles, and passes a fast one", async () => {
    await assert.rejects(withTimeout(new Promise(() => undefined), 10, "commit"), TimeoutError);
    assert.equal(await withTimeout(Promise.resolve(7), 1000, "x"), 7);
  });
});

describe("withDeadline", () => {
  it("rejects while an attempt is still in flight, and stops the retry loop", async () => {
    let attempts = 0;
    let seen: AbortSignal | undefined;
    const pending = withDeadline(
      (signal) => {
        seen = signal;
        return retry(
          () => {
            attempts++;
            // The first attempt fails fast, the second hangs like a request to a silent broker.
            return attempts === 1 ? Promise.reject(new Error("x")) : new Promise(() => undefined);
          },
          { baseMs: 1, maxMs: 1, signal },
        );
      },
      50,
      "publish",
    );
    await assert.rejects(pending, TimeoutError);
    assert.equal(attempts, 2);
    assert.equal(seen?.aborted, true);
  });

  it("passes the result of a fast call", async () => {
    assert.equal(await withDeadline(async () => 7, 1000, "x"), 7);
  });
});

import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { StreamBatcher } from "../../src/stream-batcher";

describe("StreamBatcher", () => {
  it("returns what has arrived, at most max per batch, then null at the end", async () => {
    const stream = Readable.from([1, 2, 3, 4, 5], { objectMode: true });
    const batcher = new StreamBatcher<number>(stream, 2);
    const signal = new AbortController().signal;
    const seen: number[] = [];
    for (let batch = await batcher.next(signal); batch; batch = await batcher.next(signal)) {
      assert.ok(batch.length >= 1 && batch.length <= 2);
      seen.push(...batch);
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  });

  it("pauses the stream while a full batch waits and resumes when it is taken", async () => {
    const stream = new Readable({ objectMode: true, read() {} });
    const batcher = new StreamBatcher<number>(stream, 2);
    stream.push(1);
    stream.push(2);
    stream.push(3);
    await new Promise((r) => setImmediate(r));
    assert.equal(stream.isPaused(), true);
    const signal = new AbortController().signal;
    assert.deepEqual(await batcher.next(signal), [1, 2]);
    assert.equal(stream.isPaused(), false);
    assert.deepEqual(await batcher.next(signal), [3]);
    stream.destroy();
  });

  it("waits for data, and returns null when aborted", async () => {
    const stream = new Readable({ objectMode: true, read() {} });
    const batcher = new StreamBatcher<number>(stream, 10);
    const controller = new AbortController();
    const waiting = batcher.next(controller.signal);
    setTimeout(() => stream.push(42), 5);
    assert.deepEqual(await waiting, [42]);
    const aborted = batcher.next(controller.signal);
    controller.abort();
    assert.equal(await aborted, null);
    stream.destroy();
  });

  it("rethrows the stream's error", async () => {
    const stream = new Readable({ objectMode: true, read() {} });
    const batcher = new StreamBatcher<number>(stream, 10);
    const waiting = batcher.next(new AbortController().signal);
    stream.destroy(new Error("broker gone"));
    await assert.rejects(waiting, /broker gone/);
  });
});

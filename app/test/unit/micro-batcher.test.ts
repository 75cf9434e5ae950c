import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MicroBatcher } from "../../src/micro-batcher";

describe("MicroBatcher", () => {
  it("sends concurrent items as one batch after the linger time", async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number>(async (items) => void batches.push(items), {
      lingerMs: 5,
      maxItems: 100,
    });
    await Promise.all([batcher.add(1), batcher.add(2), batcher.add(3)]);
    assert.deepEqual(batches, [[1, 2, 3]]);
  });

  it("flushes at once when maxItems are queued", async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number>(async (items) => void batches.push(items), {
      lingerMs: 60000,
      maxItems: 2,
    });
    await Promise.all([batcher.add(1), batcher.add(2)]);
    assert.deepEqual(batches, [[1, 2]]);
    assert.equal(batcher.pending, 0);
  });

  it("rejects every caller of a failed batch, and the next batch starts fresh", async () => {
    let fail = true;
    const batcher = new MicroBatcher<number>(
      async () => {
        if (fail) throw new Error("not enough replicas");
      },
      { lingerMs: 1, maxItems: 10 },
    );
    const results = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected"],
    );
    fail = false;
    await batcher.add(3);
  });
});

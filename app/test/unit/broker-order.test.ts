import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BrokerOrder } from "../../src/broker-order";

describe("BrokerOrder", () => {
  it("keeps the configured order until a broker is suspected, then puts it last for a while", () => {
    let now = 1000;
    const order = new BrokerOrder(["a:9092", "b:9092", "c:9092"], 5000, () => now);
    assert.deepEqual(order.order(), ["a:9092", "b:9092", "c:9092"]);
    assert.equal(order.hasSuspects(), false);
    order.suspect("a:9092");
    assert.equal(order.hasSuspects(), true);
    now += 100;
    order.suspect("b:9092");
    assert.deepEqual(order.order(), ["c:9092", "a:9092", "b:9092"]);
    assert.equal(order.isSuspect("a:9092"), true);
    assert.equal(order.isSuspect("c:9092"), false);
    now += 4950;
    assert.deepEqual(order.order(), ["a:9092", "c:9092", "b:9092"], "a's suspicion expired");
    now += 100;
    assert.deepEqual(order.order(), ["a:9092", "b:9092", "c:9092"]);
  });

  it("ignores brokers that are not configured (discovered ones)", () => {
    const order = new BrokerOrder(["a:9092", "b:9092"], 5000);
    order.suspect("x:9092");
    assert.deepEqual(order.order(), ["a:9092", "b:9092"]);
  });
});

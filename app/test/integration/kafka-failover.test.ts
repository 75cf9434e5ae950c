/**
 * The paper's messaging failover on loopback: two brokers (topic RF 2, min ISR 1) and a third,
 * controller-only voter. The partition leader is killed mid-stream; every acknowledged message
 * must still be stored exactly once, and the pauses are measured (the paper saw ~30 s).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../support/app-process";
import { postUntilAccepted, runPool } from "../support/client";
import { type Stack, startStack, sumMetric } from "../support/stack";

const MESSAGES = 600;
const KILL_AFTER = 150;

function longestGap(sortedTimes: number[], from: number): number {
  let gap = 0;
  for (let i = 1; i < sortedTimes.length; i++) {
    if ((sortedTimes[i] as number) < from) continue;
    gap = Math.max(gap, (sortedTimes[i] as number) - (sortedTimes[i - 1] as number));
  }
  return gap;
}

describe("Kafka broker failover (2 brokers + controller-only voter, RF 2)", () => {
  let stack: Stack;

  before(
    async () => {
      stack = await startStack({
        apps: 2,
        kafka: "paper",
        appEnv: { KAFKA_SESSION_TIMEOUT_MS: "6000", KAFKA_HEARTBEAT_INTERVAL_MS: "1000" },
      });
    },
    { timeout: 300000 },
  );

  after(async () => {
    await stack?.stop();
  });

  it(
    "loses no acknowledged message when the partition leader is killed",
    { timeout: 300000 },
    async (t) => {
      const keys = Array.from({ length: MESSAGES }, () => randomUUID());
      const ackedAt: number[] = [];
      let killedAt = 0;
      let killedNode = 0;
      let kill: Promise<void> | undefined;
      await runPool(MESSAGES, 4, async (i) => {
        const { ackedAt: at } = await postUntilAccepted(
          stack.apps,
          i,
          keys[i] as string,
          `ha ${i}`,
        );
        ackedAt.push(at);
        if (ackedAt.length === KILL_AFTER && !kill) {
          kill = (async () => {
            killedNode = stack.kafka.leaderOf("messages", 0);
            const node = stack.kafka.nodes.find((n) => n.nodeId === killedNode);
            assert.ok(node?.isBroker, `leader ${killedNode} is a broker`);
            killedAt = Date.now();
            await node.kill();
          })();
        }
        // A steady client, not a flood: the pause is visible in the timestamps.
        await new Promise((r) => setTimeout(r, 20));
      });
      await kill;

      let rows: { message_uid: string; stored_ms: string }[] = [];
      await waitFor(
        `${MESSAGES} messages stored`,
        async () => {
          rows = await stack.pg.query(
            `SELECT message_uid, (extract(epoch FROM stored_at) * 1000)::bigint::text AS stored_ms
             FROM messages WHERE message_uid = ANY($1::text[])`,
            [keys],
          );
          return rows.length === MESSAGES;
        },
        120000,
        250,
      );
      assert.equal(new Set(rows.map((r) => r.message_uid)).size, MESSAGES);
      const total = await stack.pg.query<{ n: string }>("SELECT count(*) AS n FROM messages");
      assert.equal(Number(total[0]?.n), MESSAGES, "no row beyond the acknowledged messages");

      const stored = rows.map((r) => Number(r.stored_ms)).sort((a, b) => a - b);
      ackedAt.sort((a, b) => a - b);
      const consumerPause = longestGap(stored, killedAt);
      const producerPause = longestGap(ackedAt, killedAt);
      const report =
        `leader broker ${killedNode} killed: longest gap between stored rows ${consumerPause} ms, ` +
        `between acknowledged POSTs ${producerPause} ms; ` +
        `503 answers ${await sumMetric(stack.apps, "app_produce_failures_total")}, ` +
        `consumer restarts ${await sumMetric(stack.apps, "app_consumer_restarts_total")}`;
      t.diagnostic(report);
      process.stdout.write(`# broker failover: ${report}\n`);
      assert.ok(consumerPause < 25000, `consumption paused ${consumerPause} ms (paper: ~30 s)`);

      // The killed broker rejoins and the pipeline keeps working with both brokers.
      await stack.kafka.nodes.find((n) => n.nodeId === killedNode)?.start();
      const afterRejoin = randomUUID();
      await postUntilAccepted(stack.apps, 0, afterRejoin, "after rejoin");
      await waitFor(
        "message after rejoin stored",
        async () =>
          (await stack.pg.query("SELECT 1 FROM messages WHERE message_uid = $1", [afterRejoin]))
            .length === 1,
        60000,
      );
    },
  );
});

/**
 * The write path under broker faults, with the paper's Kafka layout (two brokers, RF 2, min ISR 1,
 * a controller-only third voter) and two app nodes taking POSTs in turn, as nginx spreads them.
 *
 * - A partitioned broker is modelled by SIGSTOP: its connections stay open and nothing answers
 *   (the hard case: no reset, no refused connect). SIGCONT undoes it, also when a test fails.
 * - A killed broker is SIGKILLed and started again.
 * - The consuming app node is SIGKILLed.
 *
 * Asserted (deterministic): every POST is answered within the publish deadline plus a margin,
 * every 503 carries Retry-After, every acknowledged message is stored exactly once. Printed (the
 * timed bounds belong to the drills): failed share, longest time without an acknowledged write
 * (no-ack gap), slowest answer, consumer pause.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, before, describe, it, type TestContext } from "node:test";
import { type AppProcess, waitFor } from "../support/app-process";
import { postUntilAccepted } from "../support/client";
import type { ClusterTuning, KafkaNode } from "../support/kafka";
import { CONTRACT_APP_KAFKA_ENV, type Stack, startStack } from "../support/stack";

const PUBLISH_DEADLINE_MS = 15000;
/** Event-loop and loopback slack on a loaded 2-core host; far below nginx's +5 s. */
const ANSWER_MARGIN_MS = 2000;
const LANES = 4;
const LANE_PAUSE_MS = 20;
const FAULT_AT_MS = 4000;
const FAULT_FOR_MS = 10000;
const LOAD_FOR_MS = FAULT_AT_MS + FAULT_FOR_MS + 6000;
const TOPIC = "messages";
/**
 * Measuring other settings: BROKER_FAULTS_KAFKA_TUNING (JSON, ClusterTuning fields, e.g.
 * {"brokerSessionTimeoutMs":2000,"brokerHeartbeatIntervalMs":500}) and BROKER_FAULTS_APP_ENV
 * (JSON, app environment, e.g. {"KAFKA_REQUEST_TIMEOUT_MS":"1000"}).
 */
const TUNING = JSON.parse(process.env.BROKER_FAULTS_KAFKA_TUNING ?? "{}") as Partial<ClusterTuning>;
const APP_ENV = JSON.parse(process.env.BROKER_FAULTS_APP_ENV ?? "{}") as Record<string, string>;

interface Answer {
  key: string;
  startedAt: number;
  answeredAt: number;
  status: number;
  retryAfter: string | null;
}

async function post(app: AppProcess, key: string): Promise<Answer> {
  const startedAt = Date.now();
  try {
    const response = await fetch(`${app.url}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": key },
      body: JSON.stringify({ body: `fault ${key}` }),
      signal: AbortSignal.timeout(PUBLISH_DEADLINE_MS * 2),
    });
    await response.arrayBuffer();
    const retryAfter = response.headers.get("retry-after");
    return { key, startedAt, answeredAt: Date.now(), status: response.status, retryAfter };
  } catch {
    return { key, startedAt, answeredAt: Date.now(), status: 0, retryAfter: null };
  }
}

/** POSTs from LANES steady clients, alternating between the apps, for LOAD_FOR_MS. */
async function writeLoad(apps: AppProcess[], onStart: () => void): Promise<Answer[]> {
  const answers: Answer[] = [];
  const started = Date.now();
  let next = 0;
  const lanes = Array.from({ length: LANES }, async () => {
    while (Date.now() - started < LOAD_FOR_MS) {
      const app = apps[next++ % apps.length] as AppProcess;
      answers.push(await post(app, randomUUID()));
      await new Promise((r) => setTimeout(r, LANE_PAUSE_MS));
    }
  });
  onStart();
  await Promise.all(lanes);
  return answers;
}

/** Longest stretch between faultAt and the end of the load without an acknowledged write. */
function noAckGap(answers: Answer[], faultAt: number, loadEnd: number): number {
  const acks = answers
    .filter((a) => a.status === 202 && a.answeredAt >= faultAt)
    .map((a) => a.answeredAt)
    .sort((a, b) => a - b);
  let gap = 0;
  let previous = faultAt;
  for (const at of [...acks, loadEnd]) {
    gap = Math.max(gap, at - previous);
    previous = at;
  }
  return gap;
}

describe("write path under broker faults (2 brokers + controller-only voter, RF 2)", () => {
  let stack: Stack;
  const paused = new Set<KafkaNode>();

  const storedCount = async (keys: string[]): Promise<Map<string, number>> => {
    const rows = await stack.pg.query<{ message_uid: string; n: string }>(
      "SELECT message_uid, count(*)::text AS n FROM messages WHERE message_uid = ANY($1::text[]) GROUP BY 1",
      [keys],
    );
    return new Map(rows.map((r) => [r.message_uid, Number(r.n)]));
  };

  /** Both brokers up and in sync again, and a write goes through: the next fault starts clean. */
  const healthy = async (): Promise<void> => {
    await waitFor(
      "both brokers in the ISR",
      async () => stack.kafka.isrOf(TOPIC, 0).length === 2,
      120000,
      1000,
    );
    await postUntilAccepted(stack.apps, 0, randomUUID(), "healthy");
  };

  const check = async (
    t: TestContext,
    label: string,
    answers: Answer[],
    faultAt: number,
  ): Promise<void> => {
    const loadEnd = Math.max(...answers.map((a) => a.answeredAt));
    const slowest = Math.max(...answers.map((a) => a.answeredAt - a.startedAt));
    const failed = answers.filter((a) => a.status !== 202);
    const unanswered = answers.filter((a) => a.status === 0);
    const without = failed.filter((a) => a.status === 503 && a.retryAfter === null);
    const acked = answers.filter((a) => a.status === 202).map((a) => a.key);
    let counts = new Map<string, number>();
    await waitFor(
      `${acked.length} acknowledged messages stored`,
      async () => {
        counts = await storedCount(acked);
        return counts.size === acked.length;
      },
      120000,
      500,
    );
    const report =
      `${label}: ${answers.length} POSTs, failed ${failed.length} ` +
      `(${((100 * failed.length) / answers.length).toFixed(2)} %, ` +
      `${failed.filter((a) => a.status === 503).length} x 503), ` +
      `no-ack gap ${noAckGap(answers, faultAt, loadEnd)} ms, slowest answer ${slowest} ms`;
    t.diagnostic(report);
    process.stdout.write(`# broker faults: ${report}\n`);
    assert.equal(unanswered.length, 0, "every POST is answered (no dropped connection)");
    assert.ok(
      slowest <= PUBLISH_DEADLINE_MS + ANSWER_MARGIN_MS,
      `slowest answer ${slowest} ms outlived the publish deadline ${PUBLISH_DEADLINE_MS} ms`,
    );
    assert.deepEqual(without, [], "every 503 carries Retry-After");
    assert.deepEqual(
      failed.filter((a) => a.status !== 503),
      [],
      "a failed POST is a 503, nothing else",
    );
    assert.ok(
      [...counts.values()].every((n) => n === 1),
      "every acknowledged message stored exactly once",
    );
  };

  before(
    async () => {
      stack = await startStack({
        apps: 2,
        kafka: "paper",
        kafkaTuning: TUNING,
        appEnv: {
          ...CONTRACT_APP_KAFKA_ENV,
          KAFKA_PUBLISH_DEADLINE_MS: String(PUBLISH_DEADLINE_MS),
          ...APP_ENV,
        },
      });
    },
    { timeout: 300000 },
  );

  afterEach(() => {
    for (const node of paused) node.resume();
    paused.clear();
  });

  after(async () => {
    for (const node of paused) node.resume();
    await stack?.stop();
  });

  for (const role of ["leader", "follower"] as const) {
    it(
      `answers every POST in time while the ${role} broker is partitioned (SIGSTOP)`,
      {
        timeout: 300000,
      },
      async (t) => {
        await healthy();
        const leader = stack.kafka.leaderOf(TOPIC, 0);
        const node = stack.kafka.nodes.find(
          (n) => n.isBroker && (role === "leader" ? n.nodeId === leader : n.nodeId !== leader),
        );
        assert.ok(node, `a ${role} broker`);
        let faultAt = 0;
        let timers: NodeJS.Timeout[] = [];
        const answers = await writeLoad(stack.apps, () => {
          timers = [
            setTimeout(() => {
              faultAt = Date.now();
              paused.add(node);
              node.pause();
            }, FAULT_AT_MS),
            setTimeout(() => {
              node.resume();
              paused.delete(node);
            }, FAULT_AT_MS + FAULT_FOR_MS),
          ];
        });
        timers.forEach(clearTimeout);
        node.resume();
        paused.delete(node);
        await check(
          t,
          `${role} broker ${node.nodeId} partitioned ${FAULT_FOR_MS} ms`,
          answers,
          faultAt,
        );
      },
    );
  }

  it(
    "answers every POST in time while the leader broker is killed (SIGKILL) and restarted",
    {
      timeout: 300000,
    },
    async (t) => {
      await healthy();
      const leader = stack.kafka.leaderOf(TOPIC, 0);
      const node = stack.kafka.nodes.find((n) => n.nodeId === leader);
      assert.ok(node?.isBroker);
      let faultAt = 0;
      let restart: Promise<void> | undefined;
      const answers = await writeLoad(stack.apps, () => {
        restart = (async () => {
          await new Promise((r) => setTimeout(r, FAULT_AT_MS));
          faultAt = Date.now();
          await node.kill();
          await new Promise((r) => setTimeout(r, FAULT_FOR_MS));
          await node.start();
        })();
      });
      await restart;
      await check(t, `leader broker ${leader} killed ${FAULT_FOR_MS} ms`, answers, faultAt);
    },
  );

  it(
    "moves consumption to the other app node when the consuming one is SIGKILLed",
    {
      timeout: 300000,
    },
    async (t) => {
      await healthy();
      const probe = randomUUID();
      await postUntilAccepted(stack.apps, 0, probe, "probe");
      let holderName = "";
      await waitFor(
        "probe stored",
        async () => {
          const rows = await stack.pg.query<{ stored_by: string }>(
            "SELECT stored_by FROM messages WHERE message_uid = $1",
            [probe],
          );
          holderName = rows[0]?.stored_by ?? "";
          return holderName !== "";
        },
        30000,
      );
      const holder = stack.apps.find((a) => a.nodeName === holderName);
      const other = stack.apps.find((a) => a.nodeName !== holderName);
      assert.ok(holder && other);
      const killedAt = Date.now();
      await holder.stop("SIGKILL");
      // A steady writer through the surviving node; the pause is the wait for its first stored row.
      const keys: string[] = [];
      let storedAt = 0;
      while (storedAt === 0 && Date.now() - killedAt < 60000) {
        const key = randomUUID();
        const answer = await post(other, key);
        if (answer.status === 202) keys.push(key);
        const rows = await stack.pg.query<{ ms: string }>(
          `SELECT (extract(epoch FROM min(stored_at)) * 1000)::bigint::text AS ms FROM messages
         WHERE message_uid = ANY($1::text[]) AND stored_by = $2`,
          [keys, other.nodeName],
        );
        storedAt = Number(rows[0]?.ms ?? 0);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(storedAt > 0, "the surviving node takes over consumption");
      const report = `consuming node ${holderName} SIGKILLed: ${other.nodeName} stored again after ${storedAt - killedAt} ms`;
      t.diagnostic(report);
      process.stdout.write(`# broker faults: ${report}\n`);
      await holder.start();
    },
  );
});

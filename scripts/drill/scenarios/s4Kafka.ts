import { kafkaBrokers, type StackNode } from "../outputs";
import { appNodeGet } from "../runtime/nodeHttp";
import { parseMetricsText, sumMetric } from "../parse/metrics";
import type { FaultRun, KafkaResult } from "../types";
import { uidSeries } from "../uid";
import type { DrillContext } from "../runtime/context";
import { countWithPrefix, psql } from "../runtime/db";
import { http, sleep, waitFor } from "../runtime/http";
import { describeTopic, quorumStatus } from "../runtime/kafka";
import { lbMessagesUrl, runFault } from "./faultRun";

const IDEMPOTENCY_MESSAGES = 50;
const RESENT = 20;
/** prom-client counter of the app's consumer (app/src/metrics.ts) */
export const DUPLICATES_METRIC = "app_duplicates_skipped_total";

async function duplicatesSkipped(ctx: DrillContext): Promise<number | null> {
  let total = 0;
  for (const node of ctx.appNodes) {
    const r = await appNodeGet(ctx, node, "/metrics");
    if (r.status !== 200) return null;
    const v = sumMetric(parseMetricsText(r.text), DUPLICATES_METRIC);
    if (v === null) return null;
    total += v;
  }
  return total;
}

async function post(ctx: DrillContext, uid: string, body: string): Promise<number> {
  const r = await http(lbMessagesUrl(ctx.outputs.lbUrl), {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": uid },
    body: JSON.stringify({ body }),
  });
  return r.status;
}

/** Waits until every replica of the topic's partitions is in the ISR again; returns the ISR. */
export async function waitFullIsr(ctx: DrillContext, timeoutMs: number): Promise<number[]> {
  let isr: number[] = [];
  await waitFor(
    async () => {
      try {
        const t = await describeTopic(ctx);
        isr = t.partitions[0]?.isr ?? [];
        return t.partitions.every((p) => p.isr.length === p.replicas.length) ? true : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs,
    2000,
  );
  return isr;
}

/** Scenario 4: topic and quorum metadata, idempotency, then broker-stop trials under load (Table 3). */
export async function kafkaDrill(ctx: DrillContext): Promise<KafkaResult> {
  const settings = ctx.outputs.settings;
  const brokers = kafkaBrokers(ctx.outputs);
  const topic = await describeTopic(ctx);
  const quorum = await quorumStatus(ctx);
  ctx.log(
    `  topic: ${topic.partitionCount} partition(s), RF ${topic.replicationFactor}, ISR ${topic.partitions[0]?.isr.join(",")}; quorum leader ${quorum.leaderId}, voters ${quorum.voters.join(",")}`,
  );

  const series = uidSeries(ctx.runId, ctx.nextPhase());
  const dupBefore = await duplicatesSkipped(ctx);
  for (let i = 0; i < IDEMPOTENCY_MESSAGES; i++)
    await post(ctx, series.uid(i), `idempotency #${i}`);
  for (let i = 0; i < RESENT; i++) await post(ctx, series.uid(i), `idempotency #${i}`);
  await waitFor(
    async () =>
      (await countWithPrefix(ctx, ctx.pgPrimary, series.prefix)) >= IDEMPOTENCY_MESSAGES
        ? true
        : undefined,
    60_000,
    1000,
  );
  let dupAfter = await duplicatesSkipped(ctx);
  for (
    let i = 0;
    i < 10 && dupBefore !== null && dupAfter !== null && dupAfter - dupBefore < RESENT;
    i++
  ) {
    await sleep(1000);
    dupAfter = await duplicatesSkipped(ctx);
  }
  const [rows, distinct] = (
    await psql(
      ctx,
      ctx.pgPrimary,
      `select count(*), count(distinct message_uid) from messages where message_uid like '${series.prefix}%'`,
    )
  )
    .trim()
    .split("|")
    .map(Number);

  const trials: FaultRun[] = [];
  const d = ctx.opts.faultLoadSeconds;
  trials.push(
    await runFault(ctx, {
      id: "kafka-normal",
      name: "Kafka trial 1",
      trigger: "normal load",
      stop: null,
      stopAtS: 0,
      restoreAtS: 0,
      durationS: Math.min(20, d),
    }),
  );
  for (let i = 0; i < ctx.opts.kafkaTrials; i++) {
    const now = await describeTopic(ctx);
    const leaderId = now.partitions[0]?.leader;
    const leader: StackNode | undefined =
      brokers.find((b) => b.kafkaNodeId === leaderId) ?? brokers[i % brokers.length];
    trials.push(
      await runFault(ctx, {
        id: `kafka-trial-${i + 2}`,
        name: `Kafka trial ${i + 2}`,
        trigger: `partition leader ${leader.name} stopped`,
        stop: leader,
        stopAtS: Math.round(d / 4),
        restoreAtS: Math.round(d / 2),
        durationS: d,
        afterRestore: async () => {
          await waitFullIsr(ctx, 90_000);
        },
      }),
    );
  }
  const isrAfter =
    trials.length > 1 ? await waitFullIsr(ctx, 60_000) : (topic.partitions[0]?.isr ?? []);
  return {
    topic,
    quorum,
    expectedReplicationFactor: settings.kafkaReplicationFactor,
    expectedMinInsync: settings.kafkaMinInsyncReplicas,
    expectedVoters: settings.kafkaControllerVoters,
    brokerIds: brokers.map((b) => b.kafkaNodeId),
    idempotency: {
      sent: IDEMPOTENCY_MESSAGES,
      resent: RESENT,
      rows,
      distinct,
      duplicatesSkippedDelta: dupBefore !== null && dupAfter !== null ? dupAfter - dupBefore : null,
    },
    trials,
    isrAfter,
  };
}

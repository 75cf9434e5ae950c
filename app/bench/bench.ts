/**
 * Throughput and end-to-end latency of POST /messages -> Kafka (acks=all) -> consumer ->
 * PostgreSQL on this machine, with two app processes as deployed. Prints numbers, asserts none.
 *
 * BENCH_MESSAGES (default 3000) and BENCH_CONCURRENCY (default 32) size the bounded run.
 */
import { randomUUID } from "node:crypto";
import { percentile, postUntilAccepted, runPool } from "../test/support/client";
import { waitFor } from "../test/support/app-process";
import { startStack } from "../test/support/stack";

function intFromEnv(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${name} must be an integer from 1 to ${max} (got "${raw}")`);
  }
  return value;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const total = intFromEnv("BENCH_MESSAGES", 3000, 100000);
  const concurrency = intFromEnv("BENCH_CONCURRENCY", 32, 256);
  const stack = await startStack({ apps: 2, appEnv: { LOG_LEVEL: "warn" } });
  try {
    const warmup = Array.from({ length: 50 }, () => randomUUID());
    await runPool(warmup.length, 8, async (i) => {
      await postUntilAccepted(stack.apps, i, warmup[i] as string, "warm-up");
    });

    const keys = Array.from({ length: total }, () => randomUUID());
    const postedAt = new Map<string, number>();
    const ackMs: number[] = [];
    const started = Date.now();
    await runPool(total, concurrency, async (i) => {
      const key = keys[i] as string;
      const t0 = Date.now();
      postedAt.set(key, t0);
      const { ackedAt } = await postUntilAccepted(stack.apps, i, key, `bench message ${i}`);
      ackMs.push(ackedAt - t0);
    });
    const ackedAll = Date.now();

    let rows: { message_uid: string; stored_ms: string }[] = [];
    await waitFor(
      `${total} rows stored`,
      async () => {
        rows = await stack.pg.query(
          `SELECT message_uid, (extract(epoch FROM stored_at) * 1000)::text AS stored_ms
             FROM messages WHERE message_uid = ANY($1::text[])`,
          [keys],
        );
        return rows.length === total;
      },
      180000,
      250,
    );
    const endToEnd = rows
      .map((r) => Number(r.stored_ms) - (postedAt.get(r.message_uid) as number))
      .sort((a, b) => a - b);
    const lastStored = Math.max(...rows.map((r) => Number(r.stored_ms)));
    ackMs.sort((a, b) => a - b);

    const lines = [
      `messages: ${total}, concurrency: ${concurrency}, app nodes: ${stack.apps.length}, Kafka: 1 broker (acks=all, idempotent), PostgreSQL 15`,
      `throughput POST->acked: ${((total * 1000) / (ackedAll - started)).toFixed(0)} msgs/s`,
      `throughput POST->stored: ${((total * 1000) / (lastStored - started)).toFixed(0)} msgs/s`,
      `POST->202 (Kafka ack) latency: p50 ${ms(percentile(ackMs, 50))}, p99 ${ms(percentile(ackMs, 99))}`,
      `POST->row committed latency: p50 ${ms(percentile(endToEnd, 50))}, p99 ${ms(percentile(endToEnd, 99))}, max ${ms(endToEnd.at(-1) as number)}`,
    ];
    process.stdout.write(lines.map((l) => `bench: ${l}\n`).join(""));
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

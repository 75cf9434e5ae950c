import { compareLsn } from "../parse/postgres";
import type { ReplicationResult, ReplicationTrial } from "../types";
import { uidSeries } from "../uid";
import type { DrillContext } from "../runtime/context";
import { digest, psql, replication } from "../runtime/db";
import { http, sleep, waitFor } from "../runtime/http";
import { runLoad } from "../runtime/load";
import { cpuPercent, cpuSnapshot } from "../runtime/cgroup";
import { lbMessagesUrl, lbWriteLoad } from "./faultRun";
import type { StackNode } from "../outputs";
import type { TableDigest } from "../parse/postgres";

const TRIALS = 5;
const LOAD_SECONDS = 20;

async function visibleAfter(
  ctx: DrillContext,
  node: StackNode,
  uid: string,
  sentAt: number,
): Promise<number | null> {
  const seen = await waitFor(
    async () => {
      const out = await psql(ctx, node, `select 1 from messages where message_uid = '${uid}'`);
      return out.trim() === "1" ? Date.now() - sentAt : undefined;
    },
    15_000,
    0,
  );
  return seen ?? null;
}

/** Primary and standby digests once the writes have stopped and the standby has replayed them. */
async function settledDigests(
  ctx: DrillContext,
): Promise<{ primary: TableDigest; standby: TableDigest }> {
  let primary = await digest(ctx, ctx.pgPrimary);
  for (let i = 0; i < 30; i++) {
    await sleep(1000);
    const again = await digest(ctx, ctx.pgPrimary);
    const stable = again.count === primary.count && again.md5 === primary.md5;
    primary = again;
    if (stable) break;
  }
  let standby = await digest(ctx, ctx.pgStandby);
  for (let i = 0; i < 30 && compareLsn(standby.walLsn, primary.walLsn) < 0; i++) {
    await sleep(500);
    standby = await digest(ctx, ctx.pgStandby);
  }
  return { primary, standby };
}

/** Scenario 3: single-message trials (Table 2 form), then replay lag under a write load, then digests. */
export async function replicationDrill(ctx: DrillContext): Promise<ReplicationResult> {
  const series = uidSeries(ctx.runId, ctx.nextPhase());
  const trials: ReplicationTrial[] = [];
  const probeStart = Date.now();
  await psql(ctx, ctx.pgStandby, "select 1");
  const pollResolutionMs = Date.now() - probeStart;
  for (let i = 0; i < TRIALS; i++) {
    const uid = series.uid(i);
    const sentAt = Date.now();
    const r = await http(lbMessagesUrl(ctx.outputs.lbUrl), {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": uid },
      body: JSON.stringify({ body: `replication trial ${i + 1}` }),
    });
    const ackMs = r.status === 202 ? Date.now() - sentAt : null;
    const [primaryMs, standbyMs] = await Promise.all([
      visibleAfter(ctx, ctx.pgPrimary, uid, sentAt),
      visibleAfter(ctx, ctx.pgStandby, uid, sentAt),
    ]);
    trials.push({ trial: i + 1, uid, ackMs, primaryMs, standbyMs });
    ctx.log(
      `  trial ${i + 1}: 202 after ${ackMs} ms, primary ${primaryMs} ms, standby ${standbyMs} ms`,
    );
  }

  const loadSeries = uidSeries(ctx.runId, ctx.nextPhase());
  const lagMsSamples: number[] = [];
  const lagBytesSamples: number[] = [];
  let standbyState: string | null = null;
  let syncState: string | null = null;
  let loading = true;
  const sampler = (async () => {
    while (loading) {
      const rows = await replication(ctx).catch(() => []);
      const row = rows.find((r) => r.clientAddr === ctx.pgStandby.ip) ?? rows[0];
      if (row) {
        standbyState = row.state;
        syncState = row.syncState;
        if (row.replayLagMs !== null) lagMsSamples.push(row.replayLagMs);
        lagBytesSamples.push(row.replayLagBytes);
      }
      await sleep(250);
    }
  })();
  const cpuBefore = await cpuSnapshot(ctx, [ctx.pgPrimary]);
  const load = await runLoad(
    lbWriteLoad(ctx, {
      label: `write load ${ctx.opts.writeRate} req/s`,
      durationS: LOAD_SECONDS,
      post: (n) => ({ uid: loadSeries.uid(n), body: `replication load #${n}` }),
    }),
  );
  const cpuAfter = await cpuSnapshot(ctx, [ctx.pgPrimary]);
  loading = false;
  await sampler;
  const pgCpuPct = cpuPercent(cpuBefore, cpuAfter)[ctx.pgPrimary.name];
  const cpuUs =
    (cpuAfter.usec[ctx.pgPrimary.name] ?? NaN) - (cpuBefore.usec[ctx.pgPrimary.name] ?? NaN);
  const pgCpuMsPerWrite =
    load.summary.ok > 0 && Number.isFinite(cpuUs) ? cpuUs / 1000 / load.summary.ok : null;
  const { primary, standby } = await settledDigests(ctx);
  return {
    trials,
    standbyState,
    syncState,
    load: load.summary,
    lagMsSamples,
    lagBytesSamples,
    primary,
    standby,
    pollResolutionMs,
    pgCpuPct,
    pgCpuMsPerWrite,
  };
}

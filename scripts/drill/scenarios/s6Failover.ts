import { appNodeGet } from "../runtime/nodeHttp";
import { endpointPort, nodeNamed } from "../outputs";
import type { FailoverResult, PgFailoverFacts } from "../types";
import { uidSeries } from "../uid";
import type { DrillContext } from "../runtime/context";
import { digest, inRecovery, replication, viaHaproxy } from "../runtime/db";
import { http, sleep, waitFor } from "../runtime/http";
import { runFault } from "./faultRun";
import { waitFullIsr } from "./s4Kafka";

export async function writablePrimaries(ctx: DrillContext): Promise<number> {
  const states = await Promise.all([ctx.pgPrimary, ctx.pgStandby].map((n) => inRecovery(ctx, n)));
  return states.filter((s) => s === false).length;
}

function insertSql(uid: string): string {
  return (
    "insert into messages (message_uid, body, produced_by, produced_at, stored_by) " +
    `values ('${uid}', 'drill write probe', 'drill', now(), 'drill')`
  );
}

async function servesFrom(ctx: DrillContext, node: string, tries: number): Promise<boolean> {
  for (let i = 0; i < tries; i++)
    if ((await http(ctx.outputs.lbUrl)).servedBy === node) return true;
  return false;
}

async function webFailover(
  ctx: DrillContext,
): Promise<Pick<FailoverResult, "web" | "webBothServingAfter">> {
  const web1 = ctx.appNodes[0];
  const d = ctx.opts.faultLoadSeconds;
  const web = await runFault(ctx, {
    id: "failover-webserver1",
    name: `Failover: ${web1.name}`,
    trigger: `${web1.name} stopped under load`,
    stop: web1,
    stopAtS: Math.round(d / 4),
    restoreAtS: Math.round(d / 2),
    durationS: d,
    afterRestore: async () => {
      await waitFor(
        async () => ((await appNodeGet(ctx, web1, "/readyz")).status === 200 ? true : undefined),
        90_000,
        1000,
      );
      await waitFor(
        async () => ((await servesFrom(ctx, web1.name, 4)) ? true : undefined),
        30_000,
        1000,
      );
    },
  });
  // Sequential requests: concurrent probes would interleave on the round robin and each see one node.
  const seen = new Set<string>();
  for (let i = 0; i < 4 * ctx.appNodes.length; i++)
    seen.add((await http(ctx.outputs.lbUrl)).servedBy);
  return { web, webBothServingAfter: ctx.appNodes.every((n) => seen.has(n.name)) };
}

async function pgFailover(ctx: DrillContext): Promise<Pick<FailoverResult, "pg" | "pgFacts">> {
  const d = ctx.opts.faultLoadSeconds;
  const probes = uidSeries(ctx.runId, ctx.nextPhase());
  const facts: PgFailoverFacts = {
    writeRefused: false,
    writeError: "",
    readServed: false,
    readFromStandby: false,
    writablePrimaries: [await writablePrimaries(ctx)],
    writesResumed: false,
    standbyStreamingAfter: false,
    digestsEqualAfter: false,
  };
  const pg = await runFault(ctx, {
    id: "failover-pg-primary",
    name: `Failover: ${ctx.pgPrimary.name} (PG primary)`,
    trigger: `${ctx.pgPrimary.name} stopped under load`,
    stop: ctx.pgPrimary,
    stopAtS: Math.round(d / 4),
    restoreAtS: Math.round((d * 3) / 5),
    durationS: d,
    whileDown: async () => {
      await sleep(3000); // HAProxy's health check needs a few intervals to mark the primary down
      const write = await viaHaproxy(
        ctx,
        endpointPort(ctx.outputs.haproxyReadWrite),
        insertSql(probes.uid(0)),
      );
      facts.writeRefused = !write.ok;
      facts.writeError = write.ok ? "" : lastLine(write.error);
      const roWrite = await viaHaproxy(
        ctx,
        endpointPort(ctx.outputs.haproxyReadOnly),
        insertSql(probes.uid(1)),
      );
      if (!roWrite.ok) facts.writeError += ` | read-only port: ${lastLine(roWrite.error)}`;
      const read = await viaHaproxy(
        ctx,
        endpointPort(ctx.outputs.haproxyReadOnly),
        "select pg_is_in_recovery(), count(*) from messages",
      );
      facts.readServed = read.ok && /^[tf]\|\d+/.test(read.out.trim());
      facts.readFromStandby = read.ok && read.out.trim().startsWith("t|");
      facts.writablePrimaries.push(await writablePrimaries(ctx));
      ctx.log(
        `  primary down: rw ${write.ok ? "ACCEPTED" : "refused"}, ro read ${read.out.trim() || read.error}`,
      );
    },
    afterRestore: async () => {
      await waitFor(
        async () =>
          (await viaHaproxy(ctx, endpointPort(ctx.outputs.haproxyReadWrite), "select 1")).ok
            ? true
            : undefined,
        90_000,
        1000,
      );
      facts.writablePrimaries.push(await writablePrimaries(ctx));
      facts.writesResumed = (
        await viaHaproxy(ctx, endpointPort(ctx.outputs.haproxyReadWrite), insertSql(probes.uid(2)))
      ).ok;
    },
  });
  facts.standbyStreamingAfter =
    (await waitFor(
      async () =>
        (await replication(ctx).catch(() => [])).some((r) => r.state === "streaming")
          ? true
          : undefined,
      60_000,
      1000,
    )) === true;
  facts.writablePrimaries.push(await writablePrimaries(ctx));
  let equal = false;
  for (let i = 0; i < 30 && !equal; i++) {
    const [p, s] = await Promise.all([digest(ctx, ctx.pgPrimary), digest(ctx, ctx.pgStandby)]);
    equal = p.count === s.count && p.md5 === s.md5;
    if (!equal) await sleep(1000);
  }
  facts.digestsEqualAfter = equal;
  return { pg, pgFacts: facts };
}

function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? "";
}

async function kafkaFailover(
  ctx: DrillContext,
): Promise<Pick<FailoverResult, "kafka" | "kafkaIsrAfter">> {
  const kafka1 = nodeNamed(ctx.outputs, "kafka1");
  const d = ctx.opts.faultLoadSeconds;
  let isr: number[] = [];
  const kafka = await runFault(ctx, {
    id: "failover-kafka1",
    name: `Failover: ${kafka1.name}`,
    trigger: `${kafka1.name} stopped under load`,
    stop: kafka1,
    stopAtS: Math.round(d / 4),
    restoreAtS: Math.round(d / 2),
    durationS: d,
    afterRestore: async () => {
      isr = await waitFullIsr(ctx, 90_000);
    },
  });
  return { kafka, kafkaIsrAfter: isr };
}

/** Scenario 6: stop webserver1, the PG primary and kafka1, each under a write load, and restore. */
export async function failoverDrill(ctx: DrillContext): Promise<FailoverResult> {
  const web = await webFailover(ctx);
  const pg = await pgFailover(ctx);
  const kafka = await kafkaFailover(ctx);
  return { ...web, ...pg, ...kafka };
}

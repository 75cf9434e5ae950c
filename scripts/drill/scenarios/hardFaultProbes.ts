import { appNodeGet } from "../runtime/nodeHttp";
import { FAULT_BOUNDS } from "../bounds";
import type { FaultLayer, HardFaultSpec } from "../hardFaults/plan";
import { presentVoters } from "../hardFaults/shell";
import { endpointPort, kafkaVoters, type StackNode } from "../outputs";
import type { AfterHeal } from "../types";
import type { DrillContext } from "../runtime/context";
import { digest, replication, viaHaproxy } from "../runtime/db";
import { http, sleep, waitFor } from "../runtime/http";
import { describeTopic, quorumReplication } from "../runtime/kafka";
import { settlePgRoles } from "../runtime/pgRoles";

export interface ServingProbe {
  /** what "serving again" means for the layer, for the report */
  label: string;
  boundS: number;
  /** one try: true when the layer serves */
  probe: () => Promise<boolean>;
}

export function rwPort(ctx: DrillContext): number {
  return endpointPort(ctx.outputs.haproxyReadWrite);
}

async function fullIsr(ctx: DrillContext): Promise<{ full: boolean; detail: string }> {
  const t = await describeTopic(ctx);
  return {
    full:
      t.partitions.length > 0 &&
      t.partitions.every((p) => p.replicas.length > 0 && p.isr.length === p.replicas.length),
    detail: t.partitions
      .map((p) => `p${p.partition} replicas ${p.replicas.join(",")} isr ${p.isr.join(",")}`)
      .join("; "),
  };
}

async function missingVoters(ctx: DrillContext): Promise<number[]> {
  const ids = kafkaVoters(ctx.outputs).map((n) => n.kafkaNodeId);
  const rows = await quorumReplication(ctx);
  return presentVoters(rows, ids, FAULT_BOUNDS.maxVoterLag, FAULT_BOUNDS.maxVoterCatchUpAgeS * 1000)
    .missing;
}

/** How the drill tells that the faulted layer serves again. */
export function servingProbe(ctx: DrillContext, spec: HardFaultSpec): ServingProbe {
  return layerServingProbe(ctx, spec.layer, spec.node);
}

/** How the drill tells that a node of a layer serves (again). */
export function layerServingProbe(
  ctx: DrillContext,
  layer: FaultLayer,
  node: StackNode,
  /** nodes that are down (a lost host's): not used as the client of an app node's own port */
  down: ReadonlySet<string> = new Set(),
): ServingProbe {
  const b = FAULT_BOUNDS;
  const ok = async (url: string): Promise<boolean> =>
    (await http(url, { timeoutMs: 2000 })).status === 200;
  switch (layer) {
    case "lb":
      return {
        label: "LB answers 200",
        boundS: b.maxServingAfterHealS,
        probe: () => ok(ctx.outputs.lbUrl),
      };
    case "app":
      return {
        label: `${node.name} /readyz 200`,
        boundS: b.maxServingAfterHealS,
        probe: async () => (await appNodeGet(ctx, node, "/readyz", 2000, down)).status === 200,
      };
    case "pg-primary":
    case "haproxy":
      return {
        label: "a write through HAProxy's read-write port succeeds",
        boundS: layer === "pg-primary" ? b.maxWritesResumeS : b.maxServingAfterHealS,
        probe: async () =>
          (await viaHaproxy(ctx, rwPort(ctx), "select not pg_is_in_recovery()")).out.trim() === "t",
      };
    case "pg-standby":
      return {
        label: "standby streaming",
        boundS: b.maxServingAfterHealS,
        // pgFailover auto: either node may be the primary by now
        probe: async () =>
          (await settlePgRoles(ctx, 0, true)) &&
          (await replication(ctx).catch(() => [])).some((r) => r.state === "streaming"),
      };
    case "kafka-broker":
      return {
        label: "every partition's ISR full",
        boundS: b.maxKafkaServingAfterHealS,
        probe: async () => (await fullIsr(ctx).catch(() => ({ full: false }))).full,
      };
    case "kafka-controller":
      return {
        label: "every controller voter caught up",
        boundS: b.maxKafkaServingAfterHealS,
        probe: async () => (await missingVoters(ctx).catch(() => [-1])).length === 0,
      };
    case "monitor":
      return {
        label: "Prometheus /-/ready 200",
        boundS: b.maxServingAfterHealS,
        probe: () => ok(`${ctx.outputs.prometheusUrl.replace(/\/+$/, "")}/-/ready`),
      };
  }
}

/** Polls the probe until it holds; seconds it took, or null when the bound ran out. */
export async function secondsUntilServing(p: ServingProbe): Promise<number | null> {
  const started = Date.now();
  const done = await waitFor(
    async () => ((await p.probe().catch(() => false)) ? true : undefined),
    p.boundS * 1000,
    500,
  );
  return done ? (Date.now() - started) / 1000 : null;
}

/** Kafka state after the heal: waits (bounded) for a full ISR and every voter caught up. */
export async function kafkaAfterHeal(
  ctx: DrillContext,
): Promise<Pick<AfterHeal, "fullIsr" | "isrDetail" | "expectedVoters" | "missingVoters">> {
  const deadline = Date.now() + FAULT_BOUNDS.kafkaSettleS * 1000;
  let isr = { full: false, detail: "not read" };
  let missing: number[] = [];
  for (;;) {
    [isr, missing] = await Promise.all([
      fullIsr(ctx).catch((e: Error) => ({ full: false, detail: e.message.slice(0, 200) })),
      missingVoters(ctx).catch(() => [-1]),
    ]);
    if ((isr.full && missing.length === 0) || Date.now() > deadline) break;
    await sleep(1000);
  }
  return {
    fullIsr: isr.full,
    isrDetail: isr.detail,
    expectedVoters: kafkaVoters(ctx.outputs).map((n) => n.kafkaNodeId),
    missingVoters: missing,
  };
}

/** PostgreSQL after the load drained: the standby streams and holds the primary's rows. */
export async function replicationAfterHeal(
  ctx: DrillContext,
): Promise<Pick<AfterHeal, "standbyStreaming" | "replicaIdentical" | "replicationDetail">> {
  const deadline = Date.now() + FAULT_BOUNDS.replicationSettleS * 1000;
  let streaming = false;
  let detail = "";
  let identical = false;
  while (Date.now() <= deadline && !(streaming && identical)) {
    streaming = (await replication(ctx).catch(() => [])).some((r) => r.state === "streaming");
    try {
      const [p, s] = await Promise.all([digest(ctx, ctx.pgPrimary), digest(ctx, ctx.pgStandby)]);
      identical = p.count === s.count && p.md5 === s.md5;
      detail = `primary ${p.count} rows ${p.md5.slice(0, 8)}, standby ${s.count} rows ${s.md5.slice(0, 8)}`;
    } catch (e) {
      identical = false;
      detail = (e as Error).message.slice(0, 200);
    }
    if (!(streaming && identical)) await sleep(1000);
  }
  return { standbyStreaming: streaming, replicaIdentical: identical, replicationDetail: detail };
}

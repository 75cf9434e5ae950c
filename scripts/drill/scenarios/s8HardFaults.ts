import { BASELINE, FAULT_BOUNDS, HARD_FAULT_WINDOW } from "../bounds";
import { hardFaultPlans, type HardFaultSpec } from "../hardFaults/plan";
import type { AfterHeal, HardFaultResult, HardFaultsResult } from "../types";
import type { DrillContext } from "../runtime/context";
import {
  killMainProcess,
  linkDownFor,
  linkHealed,
  linkInfo,
  linkIsUp,
  setLinkUp,
  startUnit,
  undoAll,
  unitHealed,
  unitState,
} from "../runtime/hardFault";
import { http, sleep, waitFor } from "../runtime/http";
import { runFault, type FaultAction } from "./faultRun";
import {
  kafkaAfterHeal,
  replicationAfterHeal,
  secondsUntilServing,
  servingProbe,
} from "./hardFaultProbes";
import { writablePrimaries } from "./s6Failover";

type Facts = Omit<HardFaultResult, "id" | "kind" | "layer" | "node" | "unit" | "run" | "error">;

const since = (t: number): number => (Date.now() - t) / 1000;

/** SIGKILL of the unit's main process; the heal waits for systemd to restart it (bounded). */
async function killAction(ctx: DrillContext, spec: HardFaultSpec, f: Facts): Promise<FaultAction> {
  const { node, unit } = spec;
  let killedPid = 0;
  let killedAt = 0;
  return {
    node,
    injectLabel: `SIGKILL ${unit} on ${node.name}`,
    healLabel: `${unit} active again`,
    inject: async () => {
      killedAt = Date.now();
      killedPid = await killMainProcess(ctx, node, unit);
    },
    heal: async () => {
      if (killedPid === 0) return;
      const back = await waitFor(
        async () => {
          const s = await unitState(ctx, node, unit).catch(() => null);
          return s && s.activeState === "active" && s.mainPid > 0 && s.mainPid !== killedPid
            ? true
            : undefined;
        },
        FAULT_BOUNDS.maxSelfRestartS * 1000,
        250,
      );
      if (back) {
        f.selfRestartS = since(killedAt);
        unitHealed(ctx, node, unit);
      } else {
        ctx.log(`  ${unit} on ${node.name} not back by itself: starting it`);
        f.startedByDrill = true;
        await startUnit(ctx, node, unit);
      }
    },
  };
}

/** Link down for N s, restored by the container itself; the heal waits for it (bounded). */
async function linkAction(ctx: DrillContext, spec: HardFaultSpec, f: Facts): Promise<FaultAction> {
  const { node } = spec;
  const link = await linkInfo(ctx, node);
  const seconds = ctx.opts.linkDownSeconds;
  let downAt = 0;
  return {
    node,
    injectLabel: `${link.iface} down on ${node.name}`,
    healLabel: `${link.iface} up on ${node.name}`,
    inject: async () => {
      downAt = Date.now();
      await linkDownFor(ctx, node, link, seconds);
    },
    heal: async () => {
      if (downAt === 0) return;
      const up = await waitFor(
        async () => ((await linkIsUp(ctx, node, link).catch(() => false)) ? true : undefined),
        Math.max(0, downAt + (seconds + 10) * 1000 - Date.now()),
        250,
      );
      if (up) {
        f.linkRestoredS = since(downAt);
        linkHealed(ctx, node);
      } else {
        ctx.log(`  ${link.iface} on ${node.name} still down: setting it up`);
        f.linkUpByDrill = true;
        await setLinkUp(ctx, node, link);
      }
    },
  };
}

async function runHardFault(ctx: DrillContext, spec: HardFaultSpec): Promise<HardFaultResult> {
  const w = HARD_FAULT_WINDOW;
  const serving = servingProbe(ctx, spec);
  const f: Facts = {
    selfRestartS: null,
    startedByDrill: false,
    linkRestoredS: null,
    linkUpByDrill: false,
    servingAfterHealS: null,
    servingBoundS: serving.boundS,
    servingProbe: serving.label,
    writablePrimaries: [],
    after: null,
  };
  const base = {
    id: spec.id,
    kind: spec.kind,
    layer: spec.layer,
    node: spec.node.name,
    unit: spec.unit,
  };
  const isKill = spec.kind === "sigkill";
  const action = isKill ? await killAction(ctx, spec, f) : await linkAction(ctx, spec, f);
  const faultS = isKill ? w.killS : ctx.opts.linkDownSeconds;
  const pgPrimary = spec.layer === "pg-primary";
  const healed: { kafka: Awaited<ReturnType<typeof kafkaAfterHeal>> | null } = { kafka: null };
  try {
    const run = await runFault(ctx, {
      id: `hard-${spec.id}`,
      name: isKill ? `SIGKILL ${spec.node.name}` : `link down ${spec.node.name}`,
      trigger: isKill
        ? `SIGKILL of ${spec.unit}'s main process`
        : `link down ${ctx.opts.linkDownSeconds} s`,
      stop: null,
      action,
      stopAtS: w.leadS,
      // a killed unit heals by itself: the heal step waits for it from the kill on
      restoreAtS: isKill ? w.leadS : w.leadS + faultS,
      durationS: w.leadS + faultS + w.tailS,
      whileDown: pgPrimary
        ? async () => {
            await sleep(2000);
            f.writablePrimaries.push(await writablePrimaries(ctx));
          }
        : undefined,
      afterRestore: async () => {
        f.servingAfterHealS = await secondsUntilServing(serving);
        if (pgPrimary) f.writablePrimaries.push(await writablePrimaries(ctx));
        healed.kafka = await kafkaAfterHeal(ctx);
      },
    });
    const pg = await replicationAfterHeal(ctx);
    if (pgPrimary) f.writablePrimaries.push(await writablePrimaries(ctx));
    const after: AfterHeal | null = healed.kafka ? { ...pg, ...healed.kafka } : null;
    return { ...base, ...f, run, error: null, after };
  } catch (e) {
    for (const line of await undoAll(ctx)) ctx.log(`  ${line}`);
    return { ...base, ...f, run: null, error: (e as Error).message };
  }
}

/** Waits until the LB answered BASELINE.okInARow GETs in a row with 200 (bounded). */
async function lbBaseline(ctx: DrillContext): Promise<boolean> {
  let inARow = 0;
  const ok = await waitFor(
    async () => {
      const status = await http(ctx.outputs.lbUrl)
        .then((r) => r.status)
        .catch(() => 0);
      inARow = status === 200 ? inARow + 1 : 0;
      return inARow >= BASELINE.okInARow ? true : undefined;
    },
    BASELINE.withinS * 1000,
    300,
  );
  return ok === true;
}

/** Scenario 8: SIGKILL and link down of every node, one at a time, each under the write load. */
export async function hardFaultDrill(
  ctx: DrillContext,
  only: (spec: HardFaultSpec) => boolean = () => true,
): Promise<HardFaultsResult> {
  const started = Date.now();
  const faults: HardFaultResult[] = [];
  const specs = hardFaultPlans(ctx.outputs).filter(only);
  for (const [i, spec] of specs.entries()) {
    const t = Date.now();
    ctx.log(`  [${i + 1}/${specs.length}] ${spec.kind} ${spec.node.name} (${spec.unit})`);
    // The previous fault's aftermath (e.g. nginx skipping nodes it saw fail) is not this one's.
    if (!(await lbBaseline(ctx)))
      ctx.log(`  the LB did not serve cleanly within ${BASELINE.withinS} s`);
    const r = await runHardFault(ctx, spec);
    if (r.error) ctx.log(`  ${spec.id} failed: ${r.error}`);
    ctx.log(`  ${spec.id} done in ${since(t).toFixed(1)} s`);
    faults.push(r);
  }
  return { linkDownS: ctx.opts.linkDownSeconds, faults, durationS: since(started) };
}

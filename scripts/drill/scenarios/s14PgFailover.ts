import { PATRONI_UNIT } from "../../../components/render/patroni";
import {
  PG_FAILOVER_BOUNDS,
  longestCommitGapS,
  pgFailoverTrials,
  twoWriters,
  writerAtEnd,
  writesBackS,
  type PgFailoverTrialSpec,
  type WriterSample,
} from "../pgFailover/plan";
import type { StackNode } from "../outputs";
import type { PgFailoverResult, PgFailoverTrial } from "../types";
import { uidSeries } from "../uid";
import { runCommitProbe } from "../runtime/commitProbe";
import type { DrillContext } from "../runtime/context";
import { uidsWithPrefix } from "../runtime/db";
import {
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
import { sleep, waitFor } from "../runtime/http";
import { setNodeRunning } from "../runtime/nodes";
import { pctExec } from "../runtime/pct";
import { pgWritable, settlePgRoles } from "../runtime/pgRoles";
import { runFault, type FaultAction } from "./faultRun";
import { replicationAfterHeal } from "./hardFaultProbes";

const B = PG_FAILOVER_BOUNDS;
const since = (t: number): number => (Date.now() - t) / 1000;

/** SIGKILL of every process of the primary's Patroni unit: Patroni, the postmaster, backends. */
function killAction(ctx: DrillContext, node: StackNode, marks: { at: number }): FaultAction {
  const key = `unit:${node.vmid}:${PATRONI_UNIT}`;
  return {
    node,
    injectLabel: `SIGKILL of ${PATRONI_UNIT} (Patroni and PostgreSQL) on ${node.name}`,
    healLabel: `${PATRONI_UNIT} active again on ${node.name}`,
    inject: async () => {
      ctx.undo.set(key, () => startUnit(ctx, node, PATRONI_UNIT));
      marks.at = Date.now();
      await pctExec(ctx.pct, node.vmid, ["systemctl", "kill", "--signal=KILL", PATRONI_UNIT], {
        timeoutMs: 15_000,
      });
    },
    heal: async () => {
      const back = await waitFor(
        async () =>
          (await unitState(ctx, node, PATRONI_UNIT).catch(() => null))?.activeState === "active"
            ? true
            : undefined,
        30_000,
        250,
      );
      if (back) unitHealed(ctx, node, PATRONI_UNIT);
      else {
        ctx.log(`  ${PATRONI_UNIT} on ${node.name} not back by itself: starting it`);
        await startUnit(ctx, node, PATRONI_UNIT);
      }
      ctx.undo.delete(key);
    },
  };
}

function stopAction(ctx: DrillContext, node: StackNode, marks: { at: number }): FaultAction {
  return {
    node,
    injectLabel: `pct stop ${node.name}`,
    healLabel: `pct start ${node.name}`,
    inject: async () => {
      marks.at = Date.now();
      const r = await setNodeRunning(ctx, node, false);
      if (r.code !== 0) throw new Error(`pct stop ${node.vmid} failed: ${r.stderr.trim()}`);
    },
    heal: async () => {
      const r = await setNodeRunning(ctx, node, true);
      if (r.code !== 0) throw new Error(`pct start ${node.vmid} failed: ${r.stderr.trim()}`);
    },
  };
}

function linkAction(ctx: DrillContext, node: StackNode, marks: { at: number }): FaultAction {
  let link: Awaited<ReturnType<typeof linkInfo>> | null = null;
  return {
    node,
    injectLabel: `link down on ${node.name}`,
    healLabel: `link up on ${node.name}`,
    inject: async () => {
      link = await linkInfo(ctx, node);
      marks.at = Date.now();
      await linkDownFor(ctx, node, link, B.linkDownS);
    },
    heal: async () => {
      if (!link) return;
      const l = link;
      const up = await waitFor(
        async () => ((await linkIsUp(ctx, node, l).catch(() => false)) ? true : undefined),
        (B.linkDownS + 10) * 1000,
        250,
      );
      if (up) linkHealed(ctx, node);
      else await setLinkUp(ctx, node, l);
    },
  };
}

async function runTrial(ctx: DrillContext, spec: PgFailoverTrialSpec): Promise<PgFailoverTrial> {
  const base = { id: spec.id, kind: spec.kind, trial: spec.trial };
  if (!(await settlePgRoles(ctx, B.settleS * 1000, true)))
    return {
      ...base,
      primaryBefore: null,
      error: `no single primary with a streaming replica within ${B.settleS} s`,
    };
  const primary = ctx.pgPrimary;
  const marks = { at: 0 };
  const action =
    spec.kind === "sigkill"
      ? killAction(ctx, primary, marks)
      : spec.kind === "stop"
        ? stopAction(ctx, primary, marks)
        : linkAction(ctx, primary, marks);
  const downS = spec.kind === "sigkill" ? 0 : spec.kind === "stop" ? B.stopS : B.linkDownS;
  // The load and the probe run past the fault window by the time the old primary takes to rejoin
  // at most; the probe ends with the load.
  const durationS = B.leadS + downS + B.maxWritesBackS + B.tailS;
  const probeSeries = uidSeries(ctx.runId, ctx.nextPhase());
  const samples: WriterSample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const next = Date.now() + B.writerPollMs;
      samples.push({ at: Date.now(), writable: await pgWritable(ctx) });
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  const probe = runCommitProbe(ctx, ctx.appNodes[0], {
    prefix: `${probeSeries.prefix}4000-8000-`,
    durationMs: durationS * 1000,
    intervalMs: B.commitIntervalMs,
    timeoutMs: B.commitTimeoutMs,
  });
  const probeOutcome = probe.then(
    (a) => ({ attempts: a, error: null as string | null }),
    (e: Error) => ({ attempts: [], error: e.message }),
  );
  let rejoinedS: number | null = null;
  try {
    const run = await runFault(ctx, {
      id: spec.id,
      name: `PG failover: ${spec.kind} trial ${spec.trial}`,
      trigger: `${spec.kind} of the primary ${primary.name}`,
      stop: null,
      action,
      stopAtS: B.leadS,
      restoreAtS: B.leadS + downS,
      durationS,
      afterRestore: async () => {
        const t = Date.now();
        if (await settlePgRoles(ctx, B.rejoinS * 1000, true)) rejoinedS = since(t);
      },
    });
    const { attempts, error } = await probeOutcome;
    sampling = false;
    await sampler;
    if (error) throw new Error(error);
    // Settled again (the load's own settling may have outlasted a role change).
    await settlePgRoles(ctx, B.settleS * 1000, true);
    const stored = await uidsWithPrefix(ctx, ctx.pgPrimary, probeSeries.prefix);
    const committed = attempts.filter((a) => a.ok);
    const lost = committed.filter((a) => !stored.has(a.uid)).map((a) => a.uid);
    const failedButStored = attempts.filter((a) => !a.ok && stored.has(a.uid)).length;
    const writers = twoWriters(samples);
    const after = await replicationAfterHeal(ctx);
    const errors = [...new Set(attempts.filter((a) => !a.ok).map((a) => a.err))].slice(0, 4);
    return {
      ...base,
      primaryBefore: primary.name,
      primaryAfter: writerAtEnd(samples) ?? ctx.pgPrimary.name,
      writesBackS: writesBackS(attempts, marks.at),
      longestCommitGapS: longestCommitGapS(attempts, marks.at),
      commits: { attempts: attempts.length, ok: committed.length, failedButStored },
      committedLost: lost.length,
      committedLostSample: lost.slice(0, 3),
      commitErrors: errors,
      twoWriterPolls: writers.polls,
      twoWriterLongestMs: writers.longestMs,
      writerPolls: samples.length,
      rejoinedS,
      after,
      run,
      error: null,
    };
  } catch (e) {
    sampling = false;
    await sampler;
    await probeOutcome;
    for (const line of await undoAll(ctx)) ctx.log(`  ${line}`);
    return { ...base, primaryBefore: primary.name, error: (e as Error).message };
  }
}

/**
 * Scenario 14 (pgFailover auto): the primary, found at run time, SIGKILLed (Patroni and
 * PostgreSQL), stopped, and cut off (link down), `trials` times each, under the write load through
 * the LB and a direct-commit probe through HAProxy; both nodes polled for two writers at once.
 */
export async function pgFailoverDrill(
  ctx: DrillContext,
  trials: number,
): Promise<PgFailoverResult> {
  const started = Date.now();
  const f = ctx.outputs.pgFailover;
  if (f.mode !== "auto")
    return {
      drilled: false,
      note: "pgFailover manual: no automatic failover to drill (scenario 6 drills the manual one)",
      synchronous: false,
      trials: [],
      durationS: 0,
    };
  const out: PgFailoverTrial[] = [];
  const specs = pgFailoverTrials(trials);
  for (const [i, spec] of specs.entries()) {
    const t = Date.now();
    const r = await runTrial(ctx, spec);
    ctx.log(
      `  [${i + 1}/${specs.length}] ${spec.kind} of ${r.primaryBefore ?? "?"}: ${
        r.error
          ? `failed: ${r.error}`
          : `primary now ${r.primaryAfter}, writes back after ${r.writesBackS?.toFixed(1) ?? "never"} s, ${r.commits?.ok}/${r.commits?.attempts} commits, ${r.committedLost} committed lost, two writers in ${r.twoWriterPolls} polls, done in ${since(t).toFixed(1)} s`
      }`,
    );
    out.push(r);
  }
  return {
    drilled: true,
    synchronous: f.synchronous,
    writeResumeBoundMs: f.writeResumeBoundMs,
    trials: out,
    durationS: since(started),
  };
}

import * as path from "node:path";
import { nginxReadTimeoutSeconds } from "../../../components/render/nginx";
import { writeTimeline } from "../chart/png";
import { nodesByRole, type StackNode } from "../outputs";
import { lbView, lbViewText } from "../parse/nginxLog";
import {
  lagSeries,
  longestAckGap,
  longestStall,
  maxLag,
  resumedAfterSeconds,
  windowProgress,
} from "../progress";
import type { FaultRun, ProgressSample } from "../types";
import { uidSeries } from "../uid";
import type { DrillContext } from "../runtime/context";
import { countWithPrefix, duplicateRows, uidsWithPrefix } from "../runtime/db";
import { sleep } from "../runtime/http";
import { newRecorder, type LoadSpec } from "../runtime/load";
import { runScheduledLoad } from "../runtime/scheduledLoad";
import { setNodeRunning } from "../runtime/nodes";
import { pctExec } from "../runtime/pct";
import { settlePgRoles } from "../runtime/pgRoles";

/** A fault other than `pct stop`: injected at stopAtS, healed at restoreAtS. */
export interface FaultAction {
  node: StackNode;
  /** timeline labels of the two events */
  injectLabel: string;
  healLabel: string;
  inject: () => Promise<void>;
  /** undoes the fault or waits until it undid itself; runs even when a probe failed */
  heal: () => Promise<void>;
}

export interface FaultPlan {
  /** file-name friendly id, also the timeline's file name */
  id: string;
  name: string;
  trigger: string;
  /** the container to stop, or null for a run under normal load (or under `action`) */
  stop: StackNode | null;
  /** a fault of its own instead of a container stop */
  action?: FaultAction;
  stopAtS: number;
  restoreAtS: number;
  durationS: number;
  /** ends the load before durationS once true (see LoadSpec.stopWhen) */
  loadStopWhen?: () => boolean;
  /** called right after the stop, while the load runs (e.g. probes of the degraded stack) */
  whileDown?: () => Promise<void>;
  /** called after the restart; resolves when the node is back in service */
  afterRestore?: () => Promise<void>;
}

/**
 * The fault loads' client timeout, in s: requests in flight to an app node that went silent wait
 * nginx's read timeout before nginx retries them on another node, which may take one more read
 * timeout (nginx's proxy_next_upstream_timeout is twice it); 2 s later the client gives up. The
 * read timeout derives from the deployed stack's publish deadline.
 */
export function writeLoadTimeoutS(settings: { appKafkaPublishDeadlineMs: number }): number {
  return 2 * nginxReadTimeoutSeconds(settings.appKafkaPublishDeadlineMs) + 2;
}

export function lbMessagesUrl(lbUrl: string): string {
  return `${lbUrl.replace(/\/+$/, "")}/messages`;
}

/** The drills' write load: POSTs through the LB at --write-rate, on at most 8 connections. */
export function lbWriteLoad(
  ctx: DrillContext,
  spec: Pick<LoadSpec, "label" | "durationS" | "post" | "timeoutS" | "t0" | "stopWhen">,
): LoadSpec {
  return {
    ...spec,
    url: lbMessagesUrl(ctx.outputs.lbUrl),
    method: "POST",
    connections: Math.min(8, ctx.opts.writeRate),
    overallRate: ctx.opts.writeRate,
  };
}

/** `pct stop` / `pct start` of a container as a fault action. */
function stopAction(ctx: DrillContext, node: StackNode): FaultAction {
  return {
    node,
    injectLabel: `pct stop ${node.name}`,
    healLabel: `pct start ${node.name}`,
    inject: async () => {
      const r = await setNodeRunning(ctx, node, false);
      if (r.code !== 0) throw new Error(`pct stop ${node.vmid} failed: ${r.stderr.trim()}`);
    },
    heal: async () => {
      const s = await setNodeRunning(ctx, node, true);
      if (s.code !== 0) throw new Error(`pct start ${node.vmid} failed: ${s.stderr.trim()}`);
    },
  };
}

/** The requests finished at or after `fromMs` (since the load's start) and how many failed. */
export function requestsAfter(
  responses: ReadonlyArray<[number, number]>,
  fromMs: number,
): { requests: number; failed: number } {
  const after = responses.filter(([t]) => t >= fromMs);
  return { requests: after.length, failed: after.filter(([, s]) => s < 200 || s >= 300).length };
}

/**
 * What the LB nodes' access logs say about the run's POSTs (best effort: null when no log could
 * be read), so a failed condition shows whether the LB finished the requests the client lost.
 */
async function lbSideOf(ctx: DrillContext, fromMs: number, toMs: number): Promise<string | null> {
  const texts: string[] = [];
  for (const node of nodesByRole(ctx.outputs, "nginx")) {
    try {
      texts.push(
        await pctExec(ctx.pct, node.vmid, ["tail", "-n", "20000", "/var/log/nginx/access.log"], {
          timeoutMs: 10_000,
        }),
      );
    } catch {
      // a stopped LB node has no log to read
    }
  }
  if (texts.length === 0) return null;
  return lbViewText(
    lbView(
      texts.join("\n"),
      new URL(lbMessagesUrl(ctx.outputs.lbUrl)).pathname,
      fromMs / 1000,
      toMs / 1000,
    ),
  );
}

/**
 * Injects a fault (by default: stops a node) during a bounded write load through the LB and
 * records what the write path did.
 */
export async function runFault(ctx: DrillContext, plan: FaultPlan): Promise<FaultRun> {
  const series = uidSeries(ctx.runId, ctx.nextPhase());
  const t0 = Date.now();
  const rec = newRecorder();
  const samples: ProgressSample[] = [];
  const events: Array<{ t: number; label: string }> = [];
  let stored = 0;
  let loadDone = false;
  let faultAtMs: number | null = null;
  let injectedAtMs: number | null = null;
  let healAtMs: number | null = null;
  /** heal and afterRestore done */
  let healedMs: number | null = null;
  const unreadMs: number[] = [];

  const sampleOnce = async (): Promise<void> => {
    try {
      stored = await countWithPrefix(ctx, ctx.pgPrimary, series.prefix);
    } catch {
      // primary unreachable (e.g. the PG drill): keep the last known count; with pgFailover
      // auto another node may be the primary by now (one look, no wait)
      unreadMs.push(Date.now() - t0);
      await settlePgRoles(ctx, 0);
    }
    samples.push([Date.now() - t0, rec.acked.length, stored]);
  };
  const sampler = (async () => {
    while (!loadDone) {
      const next = Date.now() + 1000;
      await sampleOnce();
      await sleep(Math.max(0, next - Date.now()));
    }
  })();

  // Open loop, one request every 1/rate s: autocannon sends each second's requests as one burst,
  // so a gap between acknowledgements measured on it held up to a second of the client's own
  // idle time; and while an address refuses, a closed loop counts its reconnects as thousands of
  // failed requests.
  const load = runScheduledLoad(
    lbWriteLoad(ctx, {
      label: plan.name,
      durationS: plan.durationS,
      ...(plan.loadStopWhen ? { stopWhen: plan.loadStopWhen } : {}),
      timeoutS: writeLoadTimeoutS(ctx.outputs.settings),
      post: (n) => ({ uid: series.uid(n), body: `drill ${plan.id} #${n}` }),
      t0,
    }),
    rec,
  );

  const action = plan.action ?? (plan.stop ? stopAction(ctx, plan.stop) : null);
  const fault = (async () => {
    if (!action) return;
    const node = action.node;
    await sleep(plan.stopAtS * 1000);
    faultAtMs = Date.now() - t0;
    events.push({ t: faultAtMs, label: action.injectLabel });
    try {
      await action.inject();
      injectedAtMs = Date.now() - t0;
      ctx.log(`  ${plan.name}: ${action.injectLabel} at ${(faultAtMs / 1000).toFixed(1)} s`);
      if (plan.whileDown) await plan.whileDown();
      await sleep(Math.max(0, t0 + plan.restoreAtS * 1000 - Date.now()));
    } finally {
      // Heal even when a probe failed: a drill never leaves the stack degraded.
      healAtMs = Date.now() - t0;
      await action.heal();
      events.push({ t: Date.now() - t0, label: action.healLabel });
      ctx.log(`  ${plan.name}: ${action.healLabel} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (plan.afterRestore) {
      await plan.afterRestore();
      events.push({ t: Date.now() - t0, label: `${node.name} back in service` });
    }
    healedMs = Date.now() - t0;
  })();

  // Keep a failing fault step from becoming an unhandled rejection while the load still runs.
  const faultOutcome = fault.then(
    () => null,
    (e: unknown) => e,
  );
  const result = await load;
  const faultError = await faultOutcome;
  if (faultError) {
    loadDone = true;
    await sampler;
    throw faultError;
  }
  events.push({ t: Date.now() - t0, label: "load ends" });
  const lbSide = await lbSideOf(ctx, t0, Date.now());
  // Let the consumers drain: sample until every acknowledged message is stored (bounded).
  const settleUntil = Date.now() + 90_000;
  while (stored < rec.acked.length && Date.now() < settleUntil) await sleep(1000);
  loadDone = true;
  await sampler;
  await sampleOnce();

  await settlePgRoles(ctx, 60_000);
  const storedUids = await uidsWithPrefix(ctx, ctx.pgPrimary, series.prefix);
  const duplicates = await duplicateRows(ctx, ctx.pgPrimary, series.prefix);
  const missing = rec.acked.map(([, uid]) => uid).filter((uid) => !storedUids.has(uid));
  const fromMs = faultAtMs ?? 0;
  const stall = longestStall(samples, fromMs);
  const durationMs = Date.now() - t0;
  const chart = writeTimeline(
    {
      title: `${plan.name} — ${plan.trigger}`,
      durationMs,
      responses: rec.responses,
      lag: lagSeries(samples),
      events,
    },
    path.join(ctx.opts.outDir, `timeline-${plan.id}`),
  );
  if (chart.warning) ctx.log(`  warning: ${chart.warning}`);
  return {
    name: plan.name,
    trigger: plan.trigger,
    stopped: action?.node.name ?? null,
    faultAtMs,
    load: result.summary,
    acked: rec.acked.length,
    stored: storedUids.size,
    missing,
    maxLag: maxLag(samples),
    pauseS: stall ? (stall.endMs - stall.startMs) / 1000 : 0,
    ackGapS: longestAckGap(rec.responses, fromMs),
    // Without a fault there is nothing to recover from: 0 when everything got stored.
    recoveryS: action ? resumedAfterSeconds(samples, fromMs) : missing.length === 0 ? 0 : null,
    timelinePng: chart.png ? path.basename(chart.png) : null,
    timelineSvg: path.basename(chart.svg),
    failures: rec.failures,
    ...(lbSide ? { lbSide } : {}),
    ...(healedMs !== null ? { afterHeal: requestsAfter(rec.responses, healedMs) } : {}),
    ...(rec.failedSentAt?.length && faultAtMs !== null
      ? {
          failedSentS: {
            first: (Math.min(...rec.failedSentAt) - faultAtMs) / 1000,
            last: (Math.max(...rec.failedSentAt) - faultAtMs) / 1000,
          },
        }
      : {}),
    duplicates,
    ...(injectedAtMs !== null && healAtMs !== null
      ? { faultWindow: windowProgress(samples, injectedAtMs, healAtMs, unreadMs) }
      : {}),
  };
}

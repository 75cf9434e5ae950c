import { spawn } from "node:child_process";
import { LB_PAIR_BOUNDS } from "../bounds";
import {
  hostSwitchedAfterMs,
  holdersAtEnd,
  holdersSeen,
  lbPairTrials,
  longestDualHolderMs,
  neighbourMac,
  parseLbNodeView,
  vipMovedAfterMs,
  type HolderSample,
  type LbPairTrialSpec,
} from "../lbPair/plan";
import { nodeNamed, type StackNode } from "../outputs";
import type { LbPairResult, LbPairTrial } from "../types";
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
import { setNodeRunning } from "../runtime/nodes";
import { pctExec } from "../runtime/pct";
import { runFault, type FaultAction } from "./faultRun";

const NGINX_UNIT = "nginx.service";
const KEEPALIVED_UNIT = "keepalived.service";
const IFACE = "eth0";

const since = (t: number): number => (Date.now() - t) / 1000;

/** The node's link state and whether the VIP is on it; a stopped container holds nothing. */
async function viewOf(ctx: DrillContext, node: StackNode, vip: string) {
  try {
    const text = await pctExec(
      ctx.pct,
      node.vmid,
      ["sh", "-c", `cat /sys/class/net/${IFACE}/operstate; ip -o -4 addr show dev ${IFACE}`],
      { timeoutMs: 3000 },
    );
    return parseLbNodeView(text, vip);
  } catch {
    return { linkUp: false, hasVip: false };
  }
}

/** The host's neighbour entry for the VIP (sandbox only: the drill runs on the bridge's host). */
function hostNeighbour(vip: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn("ip", ["neigh", "show", vip], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", () => resolve(""));
    child.on("close", () => resolve(out));
  });
}

interface PairContext {
  vip: string;
  nodes: StackNode[];
  /** MAC of each LB node's interface (sandbox only), to name the node the host sends to */
  macs: Map<string, string>;
}

async function sampleHolders(ctx: DrillContext, pair: PairContext): Promise<HolderSample> {
  const [views, neigh] = await Promise.all([
    Promise.all(pair.nodes.map((n) => viewOf(ctx, n, pair.vip))),
    pair.macs.size > 0 ? hostNeighbour(pair.vip) : Promise.resolve(""),
  ]);
  const mac = neighbourMac(neigh);
  const hostSees = mac ? ([...pair.macs].find(([, m]) => m === mac)?.[0] ?? null) : null;
  return {
    at: Date.now(),
    holders: pair.nodes.filter((_, i) => views[i].linkUp && views[i].hasVip).map((n) => n.name),
    hostSees,
  };
}

/** Waits until exactly one LB node holds the VIP and the LB serves through it; returns it. */
async function settledHolder(ctx: DrillContext, pair: PairContext): Promise<string | null> {
  let inARow = 0;
  const holder = await waitFor(
    async () => {
      const s = await sampleHolders(ctx, pair);
      const ok = await http(ctx.outputs.lbUrl)
        .then((r) => r.status === 200)
        .catch(() => false);
      inARow = s.holders.length === 1 && ok ? inARow + 1 : 0;
      return inARow >= LB_PAIR_BOUNDS.settledPolls ? s.holders[0] : undefined;
    },
    LB_PAIR_BOUNDS.settleS * 1000,
    300,
  );
  return holder ?? null;
}

/** Both LB nodes back in the pair: nginx and keepalived active on each (bounded). */
async function pairBack(ctx: DrillContext, pair: PairContext): Promise<boolean> {
  const ok = await waitFor(
    async () => {
      for (const node of pair.nodes) {
        for (const unit of [NGINX_UNIT, KEEPALIVED_UNIT]) {
          const s = await unitState(ctx, node, unit).catch(() => null);
          if (!s || s.activeState !== "active") return undefined;
        }
      }
      return true;
    },
    LB_PAIR_BOUNDS.backS * 1000,
    500,
  );
  return ok === true;
}

function faultAction(
  ctx: DrillContext,
  spec: LbPairTrialSpec,
  node: StackNode,
  marks: { injectedAt: number; healedAt: number },
): FaultAction {
  const mark = (): void => void (marks.injectedAt = Date.now());
  if (spec.kind === "sigkill-nginx") {
    let killedPid = 0;
    return {
      node,
      injectLabel: `SIGKILL nginx on ${node.name}`,
      healLabel: `nginx active again on ${node.name}`,
      inject: async () => {
        mark();
        killedPid = await killMainProcess(ctx, node, NGINX_UNIT);
      },
      heal: async () => {
        const back = await waitFor(
          async () => {
            const s = await unitState(ctx, node, NGINX_UNIT).catch(() => null);
            return s?.activeState === "active" && s.mainPid !== killedPid ? true : undefined;
          },
          LB_PAIR_BOUNDS.backS * 1000,
          250,
        );
        if (back) unitHealed(ctx, node, NGINX_UNIT);
        else await startUnit(ctx, node, NGINX_UNIT);
        marks.healedAt = Date.now();
      },
    };
  }
  if (spec.kind === "stop") {
    return {
      node,
      injectLabel: `pct stop ${node.name}`,
      healLabel: `pct start ${node.name}`,
      inject: async () => {
        mark();
        const r = await setNodeRunning(ctx, node, false);
        if (r.code !== 0) throw new Error(`pct stop ${node.vmid} failed: ${r.stderr.trim()}`);
      },
      heal: async () => {
        const r = await setNodeRunning(ctx, node, true);
        if (r.code !== 0) throw new Error(`pct start ${node.vmid} failed: ${r.stderr.trim()}`);
        marks.healedAt = Date.now();
      },
    };
  }
  let link: Awaited<ReturnType<typeof linkInfo>> | null = null;
  const seconds = LB_PAIR_BOUNDS.linkDownS;
  return {
    node,
    injectLabel: `${IFACE} down on ${node.name}`,
    healLabel: `${IFACE} up on ${node.name}`,
    inject: async () => {
      link = await linkInfo(ctx, node);
      mark();
      await linkDownFor(ctx, node, link, seconds);
    },
    heal: async () => {
      if (!link) return;
      const l = link;
      const up = await waitFor(
        async () => ((await linkIsUp(ctx, node, l).catch(() => false)) ? true : undefined),
        (seconds + 10) * 1000,
        250,
      );
      if (up) linkHealed(ctx, node);
      else await setLinkUp(ctx, node, l);
      marks.healedAt = Date.now();
    },
  };
}

async function runTrial(
  ctx: DrillContext,
  pair: PairContext,
  spec: LbPairTrialSpec,
): Promise<LbPairTrial> {
  const name = `${spec.kind} trial ${spec.trial}`;
  const base = { id: spec.id, kind: spec.kind, trial: spec.trial };
  const old = await settledHolder(ctx, pair);
  if (!old) {
    return {
      ...base,
      holder: null,
      error: `no single VIP holder within ${LB_PAIR_BOUNDS.settleS} s`,
    };
  }
  const node = nodeNamed(ctx.outputs, old);
  const marks = { injectedAt: 0, healedAt: 0 };
  const samples: HolderSample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const next = Date.now() + LB_PAIR_BOUNDS.pollMs;
      samples.push(await sampleHolders(ctx, pair));
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  const b = LB_PAIR_BOUNDS;
  const downS = spec.kind === "sigkill-nginx" ? 0 : spec.kind === "stop" ? b.stopS : b.linkDownS;
  try {
    const run = await runFault(ctx, {
      id: spec.id,
      name: `LB pair: ${name}`,
      trigger: `${spec.kind} of the VIP holder ${old}`,
      stop: null,
      action: faultAction(ctx, spec, node, marks),
      stopAtS: b.leadS,
      restoreAtS: b.leadS + downS,
      durationS: b.leadS + downS + b.tailS,
      afterRestore: async () => {
        await pairBack(ctx, pair);
      },
    });
    sampling = false;
    await sampler;
    const moved = vipMovedAfterMs(samples, old, marks.injectedAt);
    const hostMoved =
      pair.macs.size > 0 ? hostSwitchedAfterMs(samples, old, marks.injectedAt) : null;
    const newHolder = holdersSeen(samples, marks.injectedAt).find((h) => h !== old) ?? null;
    return {
      ...base,
      holder: old,
      newHolder,
      vipMovedS: moved === null ? null : moved / 1000,
      hostSwitchedS: hostMoved === null ? null : hostMoved / 1000,
      hostViewed: pair.macs.size > 0,
      dualHolderAfterHealMs: longestDualHolderMs(samples, marks.healedAt || Date.now()),
      holdersAtEnd: holdersAtEnd(samples),
      samples: samples.length,
      run,
      error: null,
    };
  } catch (e) {
    sampling = false;
    await sampler;
    for (const line of await undoAll(ctx)) ctx.log(`  ${line}`);
    return { ...base, holder: old, error: (e as Error).message };
  }
}

async function interfaceMacs(ctx: DrillContext, nodes: StackNode[]): Promise<Map<string, string>> {
  const macs = new Map<string, string>();
  for (const node of nodes) {
    const mac = (
      await pctExec(ctx.pct, node.vmid, ["cat", `/sys/class/net/${IFACE}/address`])
    ).trim();
    macs.set(node.name, mac.toLowerCase());
  }
  return macs;
}

/** Scenario 10: faults of the VIP holder of the LB pair under the write load through the VIP. */
export async function lbPairDrill(ctx: DrillContext): Promise<LbPairResult> {
  const started = Date.now();
  const vip = ctx.outputs.lbVirtualIp;
  const names = ctx.outputs.lbNodes;
  if (!vip || names.length < 2) {
    return {
      drilled: false,
      note: `the stack has one LB (lbReplicas ${ctx.outputs.settings.lbReplicas}): no pair to drill`,
      trials: [],
      durationS: 0,
      advertIntervalMs: ctx.outputs.settings.lbVrrpAdvertIntervalMs,
    };
  }
  const nodes = names.map((n) => nodeNamed(ctx.outputs, n));
  const pair: PairContext = {
    vip,
    nodes,
    macs: ctx.opts.target === "sandbox" ? await interfaceMacs(ctx, nodes) : new Map(),
  };
  const trials: LbPairTrial[] = [];
  const specs = lbPairTrials(ctx.opts.lbPairTrials);
  for (const [i, spec] of specs.entries()) {
    const t = Date.now();
    const r = await runTrial(ctx, pair, spec);
    ctx.log(
      `  [${i + 1}/${specs.length}] ${spec.kind} of ${r.holder ?? "?"}: ${
        r.error
          ? `failed: ${r.error}`
          : `VIP on ${r.newHolder ?? "no other node"} after ${r.vipMovedS?.toFixed(1) ?? "-"} s, ${r.run ? r.run.load.non2xx + r.run.load.errors : "?"} failed, done in ${since(t).toFixed(1)} s`
      }`,
    );
    trials.push(r);
  }
  return {
    drilled: true,
    vip,
    nodes: names,
    trials,
    durationS: since(started),
    advertIntervalMs: ctx.outputs.settings.lbVrrpAdvertIntervalMs,
  };
}

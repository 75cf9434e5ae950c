import { FAULT_BOUNDS, HOST_LOSS_WINDOW } from "../bounds";
import { hostLossPlans, probeClient, SINGLE_HOST_NOTE, type HostLossSpec } from "../hostLoss/plan";
import { endpointPort, nodesByRole, nodesByHost } from "../outputs";
import type { AfterHeal, HostLossResult, HostLossesResult, LayerServing } from "../types";
import type { DrillContext } from "../runtime/context";
import { viaHaproxy } from "../runtime/db";
import { http, sleep, waitFor } from "../runtime/http";
import { setNodeRunning } from "../runtime/nodes";
import { runFault, type FaultAction } from "./faultRun";
import {
  kafkaAfterHeal,
  layerServingProbe,
  replicationAfterHeal,
  type ServingProbe,
} from "./hardFaultProbes";
import { writablePrimaries } from "./s6Failover";
import { PG_FAILOVER_BOUNDS, writesBackS } from "../pgFailover/plan";
import { runCommitProbe } from "../runtime/commitProbe";
import { uidsWithPrefix } from "../runtime/db";
import { settlePgRoles } from "../runtime/pgRoles";
import { uidSeries } from "../uid";

const since = (t: number): number => (Date.now() - t) / 1000;

/** `pct stop` of every container of the host at once (as a crash), `pct start` of all again. */
function hostAction(ctx: DrillContext, spec: HostLossSpec): FaultAction {
  const names = spec.nodes.map((n) => n.name).join(",");
  const all = async (running: boolean): Promise<void> => {
    const rs = await Promise.all(spec.nodes.map((n) => setNodeRunning(ctx, n, running)));
    const failed = rs
      .map((r, i) => (r.code === 0 ? null : `${spec.nodes[i].name}: ${r.stderr.trim()}`))
      .filter((x) => x !== null);
    if (failed.length > 0) {
      throw new Error(`pct ${running ? "start" : "stop"} failed: ${failed.join("; ")}`);
    }
  };
  return {
    node: spec.nodes[0],
    injectLabel: `${spec.host} lost (${names})`,
    healLabel: `${spec.host} containers started`,
    inject: () => all(false),
    heal: () => all(true),
  };
}

/** What the drill asks every layer while the host is down (HTTP probes time out after 2 s). */
function lossProbes(ctx: DrillContext, spec: HostLossSpec): ServingProbe[] {
  const ok = async (url: string): Promise<boolean> =>
    (await http(url, { timeoutMs: 2000 })).status === 200;
  // HAProxy's PostgreSQL ports take only the app nodes behind the containers' firewalls.
  const clients = ctx.outputs.settings.containerFirewall
    ? ctx.appNodes
    : [ctx.pgPrimary, ctx.pgStandby];
  const client = probeClient(spec, clients);
  const lost = new Set(spec.nodes.map((n) => n.name));
  const sql = async (endpoint: string, query: string, want: string): Promise<boolean> =>
    client !== null &&
    (await viaHaproxy(ctx, endpointPort(endpoint), query, client)).out.trim() === want;
  return [
    { label: "LB GET /", boundS: 0, probe: () => ok(ctx.outputs.lbUrl) },
    ...ctx.appNodes.map((n) => layerServingProbe(ctx, "app", n, lost)),
    {
      label: "HAProxy rw: a writable primary",
      boundS: 0,
      probe: () => sql(ctx.outputs.haproxyReadWrite, "select not pg_is_in_recovery()", "t"),
    },
    {
      label: "HAProxy ro: a read",
      boundS: 0,
      probe: () => sql(ctx.outputs.haproxyReadOnly, "select count(*) >= 0 from messages", "t"),
    },
  ];
}

/** Runs every probe about once a second until `untilMs`; ok/total per probe. */
async function probeWhileDown(probes: ServingProbe[], untilMs: number): Promise<LayerServing[]> {
  const out = probes.map((p) => ({ probe: p.label, ok: 0, total: 0 }));
  while (Date.now() < untilMs - 1000) {
    const next = Date.now() + 1000;
    const results = await Promise.all(probes.map((p) => p.probe().catch(() => false)));
    results.forEach((r, i) => {
      out[i].total++;
      if (r) out[i].ok++;
    });
    await sleep(Math.max(0, next - Date.now()));
  }
  return out;
}

/** Every layer the host held serves again and the LB answers: s, or null and what still fails. */
async function untilAllServe(
  ctx: DrillContext,
  spec: HostLossSpec,
): Promise<{ s: number | null; notServing: string[] }> {
  const probes: ServingProbe[] = [
    {
      label: "LB GET /",
      boundS: 0,
      probe: async () => (await http(ctx.outputs.lbUrl)).status === 200,
    },
    ...spec.layers.map(({ node, layer }) => layerServingProbe(ctx, layer, node)),
  ];
  const started = Date.now();
  let failing: string[] = probes.map((p) => p.label);
  const done = await waitFor(
    async () => {
      const r = await Promise.all(probes.map((p) => p.probe().catch(() => false)));
      failing = probes.filter((_, i) => !r[i]).map((p) => p.label);
      return failing.length === 0 ? true : undefined;
    },
    FAULT_BOUNDS.maxHostBackS * 1000,
    1000,
  );
  return done ? { s: since(started), notServing: [] } : { s: null, notServing: failing };
}

async function runHostLoss(ctx: DrillContext, spec: HostLossSpec): Promise<HostLossResult> {
  const w = HOST_LOSS_WINDOW;
  const result: HostLossResult = {
    host: spec.host,
    nodes: spec.nodes.map((n) => n.name),
    layers: spec.layers.map((l) => `${l.node.name}:${l.layer}`),
    outages: [...spec.outages],
    absorbed: spec.absorbed,
    consumerPause: spec.consumerPause,
    run: null,
    error: null,
    duringLoss: [],
    writablePrimaries: [],
    servingAgainS: null,
    servingBoundS: FAULT_BOUNDS.maxHostBackS,
    notServing: [],
    after: null,
  };
  const kafka: { after: Awaited<ReturnType<typeof kafkaAfterHeal>> | null } = { after: null };
  // pgFailover auto: commits through HAProxy counted across the loss, from an app node that stays.
  const auto = ctx.outputs.pgFailover.mode === "auto";
  if (auto) await settlePgRoles(ctx, PG_FAILOVER_BOUNDS.settleS * 1000, true);
  const primaryBefore = ctx.pgPrimary;
  const prober = ctx.appNodes.find((n) => !spec.nodes.some((x) => x.vmid === n.vmid));
  const probeSeries = uidSeries(ctx.runId, ctx.nextPhase());
  let downAt = 0;
  const probe =
    auto && prober
      ? runCommitProbe(ctx, prober, {
          prefix: `${probeSeries.prefix}4000-8000-`,
          durationMs: (w.leadS + w.downS + w.tailS) * 1000,
          intervalMs: PG_FAILOVER_BOUNDS.commitIntervalMs,
          timeoutMs: PG_FAILOVER_BOUNDS.commitTimeoutMs,
        }).catch((e: Error) => e)
      : null;
  try {
    const action = hostAction(ctx, spec);
    const inject = action.inject;
    action.inject = async () => {
      downAt = Date.now();
      await inject();
    };
    result.run = await runFault(ctx, {
      id: `host-loss-${spec.host}`,
      name: `${spec.host} lost`,
      trigger: `pct stop of ${result.nodes.join(", ")} at once, ${w.downS} s down`,
      stop: null,
      action,
      stopAtS: w.leadS,
      restoreAtS: w.leadS + w.downS,
      durationS: w.leadS + w.downS + w.tailS,
      whileDown: async () => {
        const probes = lossProbes(ctx, spec);
        const [serving, writable] = await Promise.all([
          probeWhileDown(probes, downAt + w.downS * 1000),
          writablePrimaries(ctx),
        ]);
        result.duringLoss = serving;
        result.writablePrimaries.push(writable);
      },
      afterRestore: async () => {
        const back = await untilAllServe(ctx, spec);
        result.servingAgainS = back.s;
        result.notServing = back.notServing;
        result.writablePrimaries.push(await writablePrimaries(ctx));
        kafka.after = await kafkaAfterHeal(ctx);
      },
    });
    const attempts = probe ? await probe : null;
    if (attempts instanceof Error) throw attempts;
    await settlePgRoles(ctx, PG_FAILOVER_BOUNDS.settleS * 1000, true);
    const pg = await replicationAfterHeal(ctx);
    result.writablePrimaries.push(await writablePrimaries(ctx));
    const after: AfterHeal | null = kafka.after ? { ...pg, ...kafka.after } : null;
    if (attempts) {
      const stored = await uidsWithPrefix(ctx, ctx.pgPrimary, probeSeries.prefix);
      const ok = attempts.filter((a) => a.ok);
      result.pg = {
        primaryBefore: primaryBefore.name,
        primaryLost: spec.nodes.some((n) => n.vmid === primaryBefore.vmid),
        synchronous: ctx.outputs.pgFailover.synchronous,
        writesBackS: writesBackS(attempts, downAt),
        commits: { attempts: attempts.length, ok: ok.length },
        committedLost: ok.filter((a) => !stored.has(a.uid)).length,
      };
    }
    return { ...result, after };
  } catch (e) {
    // runFault started the containers again (its heal runs in a finally); ctx.stopped holds any
    // whose start failed, which the scenario runner starts again.
    if (probe) await probe;
    return { ...result, error: (e as Error).message };
  }
}

/** Scenario 9: each Proxmox host lost in turn (every container stopped at once) under the load. */
export async function hostLossDrill(ctx: DrillContext): Promise<HostLossesResult> {
  const started = Date.now();
  const hosts = nodesByHost(ctx.outputs).map((h) => h.host);
  const specs = hostLossPlans(ctx.outputs);
  if (!specs) {
    ctx.log(`  ${SINGLE_HOST_NOTE}`);
    return { drilled: false, note: SINGLE_HOST_NOTE, hosts, downS: 0, losses: [], durationS: 0 };
  }
  if (nodesByRole(ctx.outputs, /^pg-/).length < 2) throw new Error("the stack has no PG standby");
  const losses: HostLossResult[] = [];
  for (const [i, spec] of specs.entries()) {
    const t = Date.now();
    ctx.log(
      `  [${i + 1}/${specs.length}] ${spec.host}: ${spec.nodes.map((n) => n.name).join(", ")}`,
    );
    const r = await runHostLoss(ctx, spec);
    if (r.error) ctx.log(`  ${spec.host} failed: ${r.error}`);
    ctx.log(`  ${spec.host} done in ${since(t).toFixed(1)} s`);
    losses.push(r);
  }
  return {
    drilled: true,
    note: null,
    hosts,
    downS: HOST_LOSS_WINDOW.downS,
    losses,
    durationS: since(started),
  };
}

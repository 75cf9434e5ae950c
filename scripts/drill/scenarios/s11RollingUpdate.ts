import { appNodeGet } from "../runtime/nodeHttp";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { APP_ENV_FILE, APP_READY } from "../../../components/render/app";
import { artifactFiles } from "../../sandbox/sandbox-config";
import { sandboxPaths } from "../../sandbox/paths";
import { ROLLING_BOUNDS } from "../bounds";
import { kafkaBrokers, kafkaNodes, type StackNode } from "../outputs";
import {
  longestAllOutMs,
  outOrder,
  pollsWithSeveralOut,
  rollingChanges,
  type ReadinessSample,
  type RollingChange,
} from "../rolling/plan";
import type { RollingResult, RollingTrial } from "../types";
import type { DrillContext } from "../runtime/context";
import { parseEnvFile } from "../runtime/commandLine";
import { inRecovery, psql } from "../runtime/db";
import { unitState } from "../runtime/hardFault";
import { sleep } from "../runtime/http";
import { pctExec } from "../runtime/pct";
import { REPO_ROOT } from "../runtime/stackOutputs";
import { runFault } from "./faultRun";

const APP_UNIT = "pve-ha-app.service";
const KAFKA_UNIT = "kafka.service";
const PG_UNIT = "postgresql@15-main.service";
const KAFKA_SERVER_PROPERTIES = "/etc/kafka/server.properties";
const since = (t: number): number => (Date.now() - t) / 1000;
/** The arguments as the report shows them: a file by its name, not by this machine's path. */
const shown = (args: readonly string[]): string[] =>
  args.map((a) => a.replace(/=(\/[^=]*\/)([^/]+)$/, "=$2"));

/** `npm run sandbox -- up --no-status <args>`; resolves with its exit code and output's tail. */
function sandboxUp(args: readonly string[]): Promise<{ code: number; tail: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "sandbox", "--", "up", "--no-status", ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const keep = (d: Buffer): void => void (out = (out + d.toString()).slice(-4000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGTERM"), ROLLING_BOUNDS.maxUpS * 1000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, tail: out.trim().split("\n").slice(-6).join("\n") });
    });
  });
}

/** A copy of the app bundle with one file more: a new artifact as a release would bring. */
function variantAppArtifact(runId: string): string {
  const original = artifactFiles(sandboxPaths(REPO_ROOT)).app;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pve-ha-drill-artifact-"));
  const unpacked = path.join(dir, "x");
  fs.mkdirSync(unpacked);
  const run = (argv: string[]): void => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.trim()}`);
  };
  run(["tar", "-xzf", original, "-C", unpacked]);
  const [top] = fs.readdirSync(unpacked);
  fs.writeFileSync(path.join(unpacked, top, "DRILL-RELEASE"), `drill run ${runId}\n`);
  const file = path.join(dir, "pve-ha-app-drill.tgz");
  run(["tar", "-czf", file, "-C", unpacked, top]);
  return file;
}

/** The nodes a change restarts, their unit, and how a poll tells that a node serves. */
interface Layer {
  nodes: StackNode[];
  unit: string;
  serving: (node: StackNode) => Promise<boolean>;
}

function layerOf(ctx: DrillContext, restarts: RollingChange["restarts"]): Layer {
  if (restarts === "app") {
    return {
      nodes: ctx.appNodes,
      unit: APP_UNIT,
      serving: (n) =>
        appNodeGet(ctx, n, APP_READY.path, 1000)
          .then((r) => r.status === 200)
          .catch(() => false),
    };
  }
  if (restarts === "pg") {
    return {
      nodes: [ctx.pgPrimary, ctx.pgStandby],
      unit: PG_UNIT,
      serving: async (n) =>
        (await unitState(ctx, n, PG_UNIT).catch(() => null))?.activeState === "active",
    };
  }
  return {
    nodes: kafkaNodes(ctx.outputs),
    unit: KAFKA_UNIT,
    serving: async (n) =>
      (await unitState(ctx, n, KAFKA_UNIT).catch(() => null))?.activeState === "active",
  };
}

async function mainPids(ctx: DrillContext, layer: Layer): Promise<number[]> {
  return Promise.all(
    layer.nodes.map(
      async (n) => (await unitState(ctx, n, layer.unit).catch(() => null))?.mainPid ?? 0,
    ),
  );
}

async function readiness(layer: Layer): Promise<ReadinessSample> {
  return { at: Date.now(), ready: await Promise.all(layer.nodes.map(layer.serving)) };
}

async function runChange(ctx: DrillContext, change: RollingChange): Promise<RollingTrial> {
  const b = ROLLING_BOUNDS;
  const layer = layerOf(ctx, change.restarts);
  const before = await mainPids(ctx, layer);
  // Roles change at run time: the replica now is the one that must restart first.
  const firstExpected =
    change.restarts === "pg"
      ? (await inRecovery(ctx, ctx.pgStandby))
        ? ctx.pgStandby.name
        : ctx.pgPrimary.name
      : undefined;
  const samples: ReadinessSample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const next = Date.now() + b.pollMs;
      samples.push(await readiness(layer));
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  const up = { code: -1, tail: "", tookS: 0, doneAt: 0 };
  const node = ctx.appNodes[0];
  try {
    const run = await runFault(ctx, {
      id: `rolling-${change.id}`,
      name: `day-2: ${change.label}`,
      trigger: `npm run sandbox -- up ${shown(change.args).join(" ")}`.trim(),
      stop: null,
      action: {
        node,
        injectLabel: "sandbox up begins",
        healLabel: "sandbox up done",
        inject: async () => {
          const t = Date.now();
          try {
            const r = await sandboxUp(change.args);
            Object.assign(up, { code: r.code, tail: r.tail, tookS: since(t) });
          } finally {
            up.doneAt = Date.now();
          }
        },
        heal: async () => undefined,
      },
      stopAtS: b.leadS,
      restoreAtS: b.leadS,
      durationS: b.leadS + b.maxUpS + b.tailS,
      loadStopWhen: () => up.doneAt > 0 && Date.now() >= up.doneAt + b.tailS * 1000,
    });
    sampling = false;
    await sampler;
    const after = await mainPids(ctx, layer);
    return {
      id: change.id,
      label: change.label,
      args: shown(change.args),
      restarts: change.restarts,
      ...(firstExpected ? { firstExpected } : {}),
      upExit: up.code,
      upTail: up.code === 0 ? "" : up.tail,
      upTookS: up.tookS,
      loadAfterStartS: Math.round((run.load.durationS - b.leadS) * 10) / 10,
      restarted: layer.nodes.map((n, i) => ({
        node: n.name,
        restarted: before[i] !== after[i] && after[i] > 0,
      })),
      pollsWithSeveralOut: pollsWithSeveralOut(samples),
      longestAllOutMs: longestAllOutMs(samples),
      outOrder: outOrder(samples).map((i) => layer.nodes[i].name),
      polls: samples.length,
      run,
      error: null,
    };
  } catch (e) {
    sampling = false;
    await sampler;
    return {
      id: change.id,
      label: change.label,
      args: shown(change.args),
      restarts: change.restarts,
      error: (e as Error).message,
    };
  }
}

/** Scenario 11: day-2 changes through the sandbox's `up` while the write load runs. */
export async function rollingUpdateDrill(ctx: DrillContext): Promise<RollingResult> {
  const started = Date.now();
  if (ctx.opts.target !== "sandbox") {
    return {
      drilled: false,
      note: "the changes run through the sandbox's `up`; on a real stack run `pulumi up` under a load of your own",
      trials: [],
      durationS: 0,
    };
  }
  const env = parseEnvFile(await pctExec(ctx.pct, ctx.appNodes[0].vmid, ["cat", APP_ENV_FILE]));
  const broker = kafkaBrokers(ctx.outputs)[0];
  const properties = await pctExec(ctx.pct, broker.vmid, ["cat", KAFKA_SERVER_PROPERTIES]);
  const groupMin = /^group\.min\.session\.timeout\.ms=(\d+)$/m.exec(properties)?.[1];
  const sharedBuffers = /^(\d+)MB$/.exec(
    (await psql(ctx, ctx.pgPrimary, "show shared_buffers")).trim(),
  )?.[1];
  if (!sharedBuffers) throw new Error(`shared_buffers on ${ctx.pgPrimary.name} is not in MB`);
  if (!groupMin) {
    throw new Error(
      `${KAFKA_SERVER_PROPERTIES} on ${broker.name} has no group.min.session.timeout.ms`,
    );
  }
  const artifact = variantAppArtifact(ctx.runId);
  const changes = rollingChanges({
    logLevel: env.LOG_LEVEL ?? "info",
    artifactFile: artifact,
    groupMinSessionTimeoutMs: Number(groupMin),
    sharedBuffersMb: Number(sharedBuffers),
  });
  const trials: RollingTrial[] = [];
  try {
    await runChanges(ctx, changes, trials);
  } finally {
    fs.rmSync(path.dirname(artifact), { recursive: true, force: true });
  }
  return { drilled: true, trials, durationS: since(started) };
}

async function runChanges(
  ctx: DrillContext,
  changes: readonly RollingChange[],
  trials: RollingTrial[],
): Promise<void> {
  for (const [i, change] of changes.entries()) {
    const t = Date.now();
    const r = await runChange(ctx, change);
    ctx.log(
      `  [${i + 1}/${changes.length}] ${change.label}: ${
        r.error
          ? `failed: ${r.error}`
          : `up exit ${r.upExit} in ${r.upTookS?.toFixed(1)} s, ${r.run ? r.run.load.non2xx + r.run.load.errors : "?"} failed, restarted ${
              r.restarted
                ?.filter((x) => x.restarted)
                .map((x) => x.node)
                .join(",") || "none"
            } (order ${r.outOrder?.join(",") || "-"}), done in ${since(t).toFixed(1)} s`
      }`,
    );
    trials.push(r);
  }
}

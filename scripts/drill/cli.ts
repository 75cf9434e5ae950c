import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseDrillArgs, USAGE, type DrillOptions } from "./args";
import { allChecks } from "./conditions";
import { nodesByRole, refuseForeignEndpoints, type StackNode, type StackOutputs } from "./outputs";
import { renderJsonReport, renderMarkdownReport } from "./report/markdown";
import { wholeRunWindow } from "./scrapeFigures";
import type { DrillResults, ScrapeWindowFigures } from "./types";
import { newRunId } from "./uid";
import { parseEnvFile } from "./runtime/commandLine";
import type { DrillContext } from "./runtime/context";
import { hostRoutedPct, localPct, pctExec, type Pct } from "./runtime/pct";
import { queryScrapeFigures } from "./runtime/prometheus";
import { adminPasswordOf, readStackOutputs, REPO_ROOT } from "./runtime/stackOutputs";
import { trustLbCertificates } from "./runtime/http";
import { LB_TLS_CERT_PATH } from "../../components/render/nginxSecurity";
import { lbSplit } from "./scenarios/s1LbSplit";
import { webWrite } from "./scenarios/s2WebWrite";
import { replicationDrill } from "./scenarios/s3Replication";
import { kafkaDrill } from "./scenarios/s4Kafka";
import { observabilityDrill } from "./scenarios/s5Observability";
import { failoverDrill } from "./scenarios/s6Failover";
import { alertingDrill } from "./scenarios/s7Alerting";
import { hardFaultDrill } from "./scenarios/s8HardFaults";
import { hostLossDrill } from "./scenarios/s9HostLoss";
import { lbPairDrill } from "./scenarios/s10LbPair";
import { rollingUpdateDrill } from "./scenarios/s11RollingUpdate";
import { backupRestoreDrill } from "./scenarios/s12BackupRestore";
import { securityDrill } from "./scenarios/s13Security";
import { pgFailoverDrill } from "./scenarios/s14PgFailover";
import { settlePgRoles } from "./runtime/pgRoles";
import { APP_ENV_FILE } from "../../components/render/app";
import { hardFaultFilter } from "./hardFaults/plan";
import { undoAll } from "./runtime/hardFault";
import { sandboxPaths } from "../sandbox/paths";

function makePct(opts: DrillOptions, outputs: StackOutputs): Pct {
  if (opts.target === "stack") return hostRoutedPct(outputs, opts.sshOptions, opts.sshUser);
  const paths = sandboxPaths(REPO_ROOT);
  return localPct(opts.pctPath ?? path.join(paths.shimDir, "pct"), {
    ...process.env,
    PVE_HA_SANDBOX_LXC_PATH: process.env.PVE_HA_SANDBOX_LXC_PATH ?? paths.lxcPath,
  });
}

function one(outputs: StackOutputs, role: string): StackNode {
  const nodes = nodesByRole(outputs, role);
  if (nodes.length !== 1) {
    throw new Error(
      `expected one node with role ${role} (got ${nodes.map((n) => n.name).join(",") || "none"})`,
    );
  }
  return nodes[0];
}

async function makeContext(opts: DrillOptions): Promise<DrillContext> {
  const outputs = readStackOutputs(opts);
  refuseForeignEndpoints(outputs);
  const pct = makePct(opts, outputs);
  const appNodes = nodesByRole(outputs, "app").sort((a, b) => a.name.localeCompare(b.name));
  if (appNodes.length === 0) throw new Error("the stack has no app nodes");
  const env = parseEnvFile(await pctExec(pct, appNodes[0].vmid, ["cat", APP_ENV_FILE]));
  for (const key of ["PG_USER", "PG_PASSWORD"]) {
    if (!env[key]) throw new Error(`${APP_ENV_FILE} on ${appNodes[0].name} has no ${key}`);
  }
  if (outputs.settings.lbTls !== "off") {
    // https to the LBs verifies their certificates: each LB's own (self-signed: one per LB).
    const pems = await Promise.all(
      nodesByRole(outputs, "nginx").map((lb) => pctExec(pct, lb.vmid, ["cat", LB_TLS_CERT_PATH])),
    );
    trustLbCertificates(pems);
  }
  const admin = outputs.settings.lbAdminAuth
    ? { user: outputs.settings.lbAdminUser, password: adminPasswordOf(outputs, opts.target) }
    : null;
  let phase = 0;
  return {
    admin,
    opts,
    outputs,
    pct,
    runId: newRunId(),
    db: {
      database: outputs.settings.pgDatabase,
      user: env.PG_USER,
      password: env.PG_PASSWORD,
    },
    appNodes,
    pgPrimary: one(outputs, "pg-primary"),
    pgStandby: one(outputs, "pg-standby"),
    pgProxy: one(outputs, "haproxy"),
    stopped: new Set(),
    undo: new Map(),
    log: (m) => console.log(m),
    nextPhase: () => ++phase,
  };
}

/** Undoes every fault a drill left in place (on interrupt or a crash): links, units, nodes. */
async function restoreStopped(ctx: DrillContext): Promise<void> {
  for (const line of await undoAll(ctx)) console.error(line);
  for (const vmid of [...ctx.stopped]) {
    const r = await ctx.pct.run(["start", String(vmid)]);
    console.error(`restored ${vmid}: pct start exit ${r.code}`);
    if (r.code === 0) ctx.stopped.delete(vmid);
  }
}

/** Scrape figures from the run's start to its end (capped), fault drills included. */
async function scrapeWholeRun(
  ctx: DrillContext,
  startMs: number,
  endMs: number,
): Promise<ScrapeWindowFigures> {
  const w = wholeRunWindow(startMs, endMs);
  const { scrape } = await queryScrapeFigures(ctx.outputs.prometheusUrl, w.windowS, endMs);
  return {
    from: new Date(w.fromMs).toISOString(),
    to: new Date(endMs).toISOString(),
    windowS: w.windowS,
    capped: w.capped,
    scrape,
  };
}

async function runScenarios(ctx: DrillContext): Promise<DrillResults> {
  const o = ctx.opts;
  const startMs = Date.now();
  const results: DrillResults = {
    target: o.target,
    runId: ctx.runId,
    startedAt: new Date(startMs).toISOString(),
    finishedAt: "",
    parameters: {
      requests: o.requests,
      concurrency: o.concurrency,
      writeRate: o.writeRate,
      faultSeconds: o.faultLoadSeconds,
      kafkaTrials: o.kafkaTrials,
      ...(o.scenarios.includes(8) ? { linkDownSeconds: o.linkDownSeconds } : {}),
      ...(o.scenarios.includes(10) ? { lbPairTrials: o.lbPairTrials } : {}),
      ...(o.scenarios.includes(14) ? { pgFailoverTrials: o.pgFailoverTrials } : {}),
      scenarios: o.scenarios.join(","),
    },
    errors: {},
  };
  const steps: Record<number, [string, () => Promise<void>]> = {
    1: ["LB split", async () => void (results.lbSplit = await lbSplit(ctx))],
    2: ["web write path", async () => void (results.webWrite = await webWrite(ctx))],
    3: ["replication", async () => void (results.replication = await replicationDrill(ctx))],
    4: ["Kafka end-to-end", async () => void (results.kafka = await kafkaDrill(ctx))],
    5: ["observability", async () => void (results.observability = await observabilityDrill(ctx))],
    6: ["failover under load", async () => void (results.failover = await failoverDrill(ctx))],
    7: ["alerting", async () => void (results.alerting = await alertingDrill(ctx))],
    8: [
      "hard faults (SIGKILL, link down)",
      async () =>
        void (results.hardFaults = await hardFaultDrill(
          ctx,
          hardFaultFilter(ctx.outputs, o.hardFaults),
        )),
    ],
    9: ["host loss", async () => void (results.hostLoss = await hostLossDrill(ctx))],
    11: [
      "day-2 changes through up (rolling app updates)",
      async () => void (results.rolling = await rollingUpdateDrill(ctx)),
    ],
    12: [
      "backup under load and restores",
      async () => void (results.restore = await backupRestoreDrill(ctx)),
    ],
    13: [
      "security: exposure matrix, /admin auth, TLS, POST limits, secrets",
      async () => void (results.security = await securityDrill(ctx)),
    ],
    14: [
      "PostgreSQL automatic failover: SIGKILL, stop, link down of the primary",
      async () => void (results.pgFailover = await pgFailoverDrill(ctx, o.pgFailoverTrials)),
    ],
    10: [
      "LB pair: faults of the VIP holder",
      async () => void (results.lbPair = await lbPairDrill(ctx)),
    ],
  };
  // Scenario 5 runs before the fault drills so its scrape figures describe a healthy stack.
  // Scenario 13 last: its brute-force test leaves this machine rate-limited on /admin for a minute.
  const order = [1, 2, 3, 5, 4, 6, 7, 8, 10, 14, 11, 12, 9, 13].filter((id) =>
    o.scenarios.includes(id),
  );
  for (const id of order) {
    const [title, run] = steps[id];
    const started = Date.now();
    console.log(`scenario ${id}: ${title}`);
    try {
      // pgFailover auto: the primary is whichever node Patroni made it; find it before each one.
      if (!(await settlePgRoles(ctx, 90_000)))
        console.error(
          `  no single PostgreSQL primary found within 90 s; keeping ${ctx.pgPrimary.name}`,
        );
      await run();
    } catch (e) {
      results.errors[id] = (e as Error).message;
      console.error(`  scenario ${id} failed: ${(e as Error).message}`);
      await restoreStopped(ctx);
    }
    console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const endMs = Date.now();
  results.finishedAt = new Date(endMs).toISOString();
  if (o.scenarios.includes(5)) {
    // A benchmark figure for the report, not a pass condition: a failed query is only logged.
    try {
      results.scrapeWholeRun = await scrapeWholeRun(ctx, startMs, endMs);
    } catch (e) {
      console.error(`  scrape figures over the whole run: ${(e as Error).message}`);
    }
  }
  return results;
}

async function main(): Promise<number> {
  let opts: DrillOptions;
  try {
    opts = parseDrillArgs(process.argv.slice(2), process.env);
  } catch (e) {
    console.error(
      (e as Error).message.includes("usage:")
        ? (e as Error).message
        : `${(e as Error).message}\n${USAGE}`,
    );
    return 2;
  }
  const ctx = await makeContext(opts);
  mkdirSync(opts.outDir, { recursive: true });
  const onSignal = (signal: string): void => {
    console.error(`${signal}: undoing the faults in place before exit`);
    void restoreStopped(ctx).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const results = await runScenarios(ctx);
  const checks = allChecks(results);
  writeFileSync(path.join(opts.outDir, "report.md"), renderMarkdownReport(results, checks));
  writeFileSync(path.join(opts.outDir, "report.json"), renderJsonReport(results, checks));
  const failed = checks.filter((c) => !c.pass);
  for (const c of failed) console.log(`FAIL [${c.scenario}] ${c.name}: ${c.detail}`);
  console.log(
    `${failed.length === 0 ? "PASS" : "FAIL"}: ${checks.length - failed.length}/${checks.length} pass conditions; report in ${path.join(opts.outDir, "report.md")}`,
  );
  return failed.length === 0 && checks.length > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`drill: ${(e as Error).message}`);
    process.exit(2);
  },
);

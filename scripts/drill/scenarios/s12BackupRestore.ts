import {
  backupUnitName,
  renderScratchRestoreScript,
  renderScratchStopScript,
} from "../../../components/render/pgbackrest";
import { localPsqlArgv } from "../../../components/render/postgres";
import { RESTORE_BOUNDS } from "../bounds";
import type { StackNode } from "../outputs";
import { compareRows, lines, recoveryPointS, rowLinesSql } from "../restore/plan";
import type { RestoreResult, RestoreTrial } from "../types";
import { uidSeries } from "../uid";
import type { DrillContext } from "../runtime/context";
import { countWithPrefix, inRecovery, psql } from "../runtime/db";
import { sleep } from "../runtime/http";
import { runLoad, type LoadRun } from "../runtime/load";
import { pctExec } from "../runtime/pct";
import { instantQuery } from "../runtime/prometheus";
import { lbWriteLoad } from "./faultRun";

const since = (t: number): number => (Date.now() - t) / 1000;

/** Runs a bash script as root on a node; rejects with its output when it fails. */
function onNode(ctx: DrillContext, node: StackNode, script: string, timeoutMs: number) {
  return pctExec(ctx.pct, node.vmid, ["bash", "-s"], { stdin: script, timeoutMs });
}

/** The node that is primary now (roles change at run time). */
async function currentPrimary(ctx: DrillContext): Promise<StackNode> {
  for (const node of [ctx.pgPrimary, ctx.pgStandby]) {
    if ((await inRecovery(ctx, node)) === false) return node;
  }
  throw new Error("no PostgreSQL node answers as primary");
}

/** A write phase through the LB; resolves once every acked message is stored (bounded). */
async function writePhase(
  ctx: DrillContext,
  primary: StackNode,
  label: string,
): Promise<{ run: LoadRun; stored: number }> {
  const series = uidSeries(ctx.runId, ctx.nextPhase());
  const run = await runLoad(
    lbWriteLoad(ctx, {
      label,
      durationS: RESTORE_BOUNDS.loadS,
      post: (n) => ({ uid: series.uid(n), body: `restore drill ${label} ${n}` }),
    }),
  );
  let stored = 0;
  for (let i = 0; i < 60; i++) {
    stored = await countWithPrefix(ctx, primary, series.prefix);
    if (stored >= run.acked.length) break;
    await sleep(1000);
  }
  return { run, stored };
}

async function sourceLines(ctx: DrillContext, primary: StackNode, upTo?: string) {
  return lines(await psql(ctx, primary, rowLinesSql(upTo), 60_000));
}

async function scratchLines(ctx: DrillContext, repo: StackNode, port: number, upTo?: string) {
  const out = await pctExec(ctx.pct, repo.vmid, localPsqlArgv(port, ctx.db.database, ["-XAtq"]), {
    stdin: `${rowLinesSql(upTo)};\n`,
    timeoutMs: 60_000,
  });
  return lines(out);
}

/** The newest WAL segment of the primary is in the archive (bounded by archive_timeout + slack). */
async function walArchivedPast(ctx: DrillContext, primary: StackNode, waitS: number) {
  const segment = (await psql(ctx, primary, "select pg_walfile_name(pg_switch_wal())")).trim();
  const deadline = Date.now() + waitS * 1000;
  while (Date.now() < deadline) {
    const last = (
      await psql(ctx, primary, "select coalesce(last_archived_wal, '') from pg_stat_archiver")
    ).trim();
    if (last >= segment) return;
    await sleep(1000);
  }
  throw new Error(`WAL segment ${segment} not archived within ${waitS} s`);
}

async function restoreTrial(
  ctx: DrillContext,
  repo: StackNode,
  port: number,
  kind: RestoreTrial["kind"],
  source: string[],
  targetTime?: string,
): Promise<RestoreTrial> {
  const trial: RestoreTrial = { kind, ...(targetTime ? { target: targetTime } : {}), error: null };
  try {
    const started = Date.now();
    const out = await onNode(
      ctx,
      repo,
      renderScratchRestoreScript({
        scratchPort: port,
        targetTime,
        writableWithinS: RESTORE_BOUNDS.maxRtoS,
      }),
      (RESTORE_BOUNDS.maxRtoS + 120) * 1000,
    );
    if (!out.includes("writable")) throw new Error(`restore did not end writable: ${out}`);
    trial.rtoS = since(started);
    const restored = await scratchLines(ctx, repo, port, targetTime);
    trial.rows = compareRows(source, restored);
    if (kind === "latest") trial.rpoS = recoveryPointS(source, restored);
  } catch (e) {
    trial.error = (e as Error).message;
  }
  return trial;
}

/**
 * Scenario 12: a full backup under the write load, then restores into a scratch instance on the
 * repository node: to the latest archived point (without forcing a WAL switch: what a lost
 * cluster would leave, so the RPO is real) and to a point in time between two write phases;
 * every restored row compared with the source; the backup's freshness series in Prometheus.
 */
export async function backupRestoreDrill(ctx: DrillContext): Promise<RestoreResult> {
  const started = Date.now();
  const b = ctx.outputs.pgBackup;
  const result: RestoreResult = {
    drilled: false,
    repoNode: b.repoNode,
    archiveTimeoutS: b.archiveTimeoutSeconds,
    trials: [],
    durationS: 0,
  };
  if (!b.enabled) {
    result.note = "backups are off in this stack (pgBackupEnabled: false)";
    return result;
  }
  const repo = ctx.outputs.nodes.find((n) => n.name === b.repoNode);
  if (!repo) throw new Error(`pgBackup.repoNode ${b.repoNode} is not among the outputs' nodes`);
  result.drilled = true;
  const stop = () => onNode(ctx, repo, renderScratchStopScript(), 90_000).then(() => undefined);
  ctx.undo.set("restore scratch instance", stop);
  try {
    const primary = await currentPrimary(ctx);
    const loads: Array<{ run: LoadRun; stored: number }> = [];

    const loadDuringBackup = writePhase(ctx, primary, "during the full backup");
    const backupStarted = Date.now();
    try {
      await onNode(
        ctx,
        repo,
        `systemctl start ${backupUnitName("full")}.service`,
        RESTORE_BOUNDS.maxBackupS * 1000,
      );
      result.backupOk = true;
    } catch (e) {
      result.backupOk = false;
      result.backupError = (e as Error).message;
    }
    result.backupTookS = since(backupStarted);
    loads.push(await loadDuringBackup);

    loads.push(await writePhase(ctx, primary, "before the point in time"));
    const pointInTime = (await psql(ctx, primary, "select clock_timestamp()")).trim();
    await sleep(1500);
    loads.push(await writePhase(ctx, primary, "after the point in time"));

    result.acked = loads.reduce((n, l) => n + l.run.acked.length, 0);
    result.ackedStored = loads.reduce((n, l) => n + Math.min(l.stored, l.run.acked.length), 0);
    result.failed = loads.reduce(
      (n, l) => n + Object.values(l.run.failures).reduce((a, c) => a + c, 0),
      0,
    );

    // Latest: right after the writes, no WAL switch forced.
    const sourceNow = await sourceLines(ctx, primary);
    result.trials.push(await restoreTrial(ctx, repo, b.restoreScratchPort, "latest", sourceNow));
    // Point in time: the archive must hold WAL past the target.
    await walArchivedPast(ctx, primary, b.archiveTimeoutSeconds + 30);
    const sourceAtPoint = await sourceLines(ctx, primary, pointInTime);
    result.trials.push(
      await restoreTrial(ctx, repo, b.restoreScratchPort, "time", sourceAtPoint, pointInTime),
    );

    result.backupMetricAgeS = await backupMetricAge(ctx);
  } finally {
    await stop().catch((e) => ctx.log(`restore drill: stopping the scratch instance: ${e}`));
    ctx.undo.delete("restore scratch instance");
    result.durationS = since(started);
  }
  return result;
}

/** Age in s of the newest successful backup as Prometheus has it (polled, bounded), or null. */
async function backupMetricAge(ctx: DrillContext): Promise<number | null> {
  const deadline = Date.now() + RESTORE_BOUNDS.metricWithinS * 1000;
  while (Date.now() < deadline) {
    const series = await instantQuery(
      ctx.outputs.prometheusUrl,
      'time() - max(pve_ha_pg_backup_last_success_timestamp_seconds{type="full"})',
      Date.now(),
    ).catch(() => []);
    const v = series[0]?.values[0]?.[1];
    if (v !== undefined && Number.isFinite(v) && v < RESTORE_BOUNDS.metricWithinS * 2) return v;
    await sleep(2000);
  }
  return null;
}

import { securityChecks } from "./security/result";
import type {
  AlertingResult,
  Check,
  DrillResults,
  FailoverResult,
  FaultRun,
  KafkaResult,
  LbSplitResult,
  LoadSummary,
  ObservabilityResult,
  ReplicationResult,
  WebWriteResult,
} from "./types";
import { afterRestoreS } from "./alertTimeline";
import {
  FAULT_BOUNDS,
  HOST_LOSS_BOUNDS,
  LB_PAIR_BOUNDS,
  RESTORE_BOUNDS,
  type AbsorbedBounds,
} from "./bounds";
import { faultBars, type FaultLayer } from "./hardFaults/plan";
import { PG_FAILOVER_BOUNDS } from "./pgFailover/plan";
import type {
  HardFaultResult,
  HardFaultsResult,
  HostLossResult,
  HostLossesResult,
  LbPairResult,
  LbPairTrial,
  PgFailoverResult,
  PgFailoverTrial,
  RestoreResult,
  RollingResult,
  RollingTrial,
} from "./types";
import { percentile } from "./stats";

export interface Thresholds {
  /** largest allowed distance of a node's share from an even split, in percentage points */
  shareTolerancePts: number;
  /** the paper's "< 1 s" replication latency */
  replicationLatencyMs: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { shareTolerancePts: 10, replicationLatencyMs: 1000 };

function check(scenario: number, name: string, pass: boolean, detail: string): Check {
  return { scenario, name, pass, detail };
}

/** The direct load's check, none when it did not run (app port firewalled from this machine). */
function directLoadChecks(direct: LoadSummary | null): Check[] {
  if (!direct) return [];
  return [
    check(
      1,
      `load ${direct.label}: every request successful`,
      failures(direct) === 0 && direct.ok === direct.requests,
      `ok=${direct.ok}/${direct.requests}, non-2xx=${direct.non2xx}, errors=${direct.errors}`,
    ),
  ];
}

function failures(load: LoadSummary): number {
  return load.errors + load.non2xx;
}

/**
 * ip_hash pins a client address to one node; the drill sends from one address, so every request
 * must go to one node and none fail (whether every node serves needs several client addresses).
 */
function pinnedSplitChecks(r: LbSplitResult): Check[] {
  const pinned = (servedBy: Record<string, number>): string[] =>
    Object.keys(servedBy).filter((n) => servedBy[n] > 0);
  const out = r.sequential.map((trial) => {
    const nodes = pinned(trial.servedBy);
    return check(
      1,
      `sequential trial ${trial.trial} (ip_hash): all ${trial.requests} requests of the one client served by one node, all successful`,
      nodes.length === 1 && r.appNodes.includes(nodes[0]) && trial.ok === trial.requests,
      `${Object.entries(trial.servedBy)
        .map(([n, c]) => `${n}=${c}`)
        .join(" ")}, ok=${trial.ok}/${trial.requests}`,
    );
  });
  const lb = r.viaLb;
  const nodes = pinned(lb.servedBy);
  out.push(
    check(
      1,
      "load via the LB (ip_hash): every request successful, all served by one node",
      failures(lb) === 0 &&
        lb.ok === lb.requests &&
        nodes.length === 1 &&
        r.appNodes.includes(nodes[0]),
      `ok=${lb.ok}/${lb.requests}, served by ${nodes.join(",") || "none"}; one client address only, so whether every node serves is not drilled`,
    ),
    ...directLoadChecks(r.direct),
  );
  return out;
}

export function lbSplitChecks(r: LbSplitResult, t: Thresholds = DEFAULT_THRESHOLDS): Check[] {
  if (r.lbAlgorithm === "ip_hash") return pinnedSplitChecks(r);
  const k = r.appNodes.length;
  const out: Check[] = r.sequential.map((trial) => {
    const counts = r.appNodes.map((n) => trial.servedBy[n] ?? 0);
    const even = counts.every(
      (c) => c === Math.floor(trial.requests / k) || c === Math.ceil(trial.requests / k),
    );
    return check(
      1,
      `sequential trial ${trial.trial}: ${trial.requests} requests split evenly, all successful`,
      even && trial.ok === trial.requests && counts.reduce((a, b) => a + b, 0) === trial.requests,
      `${r.appNodes.map((n, i) => `${n}=${counts[i]}`).join(" ")}, ok=${trial.ok}/${trial.requests}`,
    );
  });
  const lb = r.viaLb;
  out.push(
    check(
      1,
      "load via the LB: every request successful",
      failures(lb) === 0 && lb.ok === lb.requests,
      `ok=${lb.ok}/${lb.requests}, non-2xx=${lb.non2xx}, errors=${lb.errors}`,
    ),
  );
  const total = Object.values(lb.servedBy).reduce((a, b) => a + b, 0);
  const shares = r.appNodes.map((n) => (total === 0 ? 0 : (100 * (lb.servedBy[n] ?? 0)) / total));
  const strangers = Object.keys(lb.servedBy).filter((n) => !r.appNodes.includes(n));
  out.push(
    check(
      1,
      `load via the LB: each app node serves ${(100 / k).toFixed(0)} % ± ${t.shareTolerancePts} points`,
      total > 0 &&
        strangers.length === 0 &&
        shares.every((s) => Math.abs(s - 100 / k) <= t.shareTolerancePts),
      r.appNodes.map((n, i) => `${n}=${shares[i].toFixed(1)} %`).join(" ") +
        (strangers.length ? `; unknown X-Served-By: ${strangers.join(",")}` : ""),
    ),
    ...directLoadChecks(r.direct),
  );
  return out;
}

export function webWriteChecks(r: WebWriteResult): Check[] {
  const m = r.messages;
  const accepted = m.filter((x) => x.status >= 200 && x.status < 400);
  const stored = m.filter((x) => x.producedBy !== null);
  const rightProducer = m.filter((x) => x.producedBy === x.servedBy);
  const knownStorer = m.filter((x) => x.storedBy !== null && r.appNodes.includes(x.storedBy));
  const onAdmin = m.filter((x) => x.onAdminPage);
  return [
    check(
      2,
      "every form post accepted (2xx/3xx)",
      m.length > 0 && accepted.length === m.length,
      `${accepted.length}/${m.length} accepted; statuses ${[...new Set(m.map((x) => x.status))].join(",")}`,
    ),
    check(
      2,
      "every posted message stored",
      stored.length === m.length,
      `${stored.length}/${m.length} stored after ${(r.waitedMs / 1000).toFixed(1)} s`,
    ),
    check(
      2,
      "produced_by = the node that answered the post (X-Served-By)",
      rightProducer.length === m.length,
      `${rightProducer.length}/${m.length} match`,
    ),
    check(
      2,
      "stored_by names an app node",
      knownStorer.length === m.length,
      `${knownStorer.length}/${m.length}; nodes: ${[...new Set(m.map((x) => x.storedBy))].join(",")}`,
    ),
    check(
      2,
      "every message shown on the admin page with its node names",
      onAdmin.length === m.length,
      `${onAdmin.length}/${m.length}; admin page served by ${r.adminServedBy.join(",") || "nobody"}`,
    ),
  ];
}

export function replicationChecks(
  r: ReplicationResult,
  t: Thresholds = DEFAULT_THRESHOLDS,
): Check[] {
  const slow = r.trials.filter(
    (x) => x.standbyMs === null || x.standbyMs >= t.replicationLatencyMs,
  );
  const lagP99 = percentile(r.lagMsSamples, 99);
  return [
    check(
      3,
      "standby is streaming",
      r.standbyState === "streaming",
      `state=${r.standbyState ?? "no standby"}, sync_state=${r.syncState ?? "-"}`,
    ),
    check(
      3,
      "primary and standby hold identical rows (count + md5)",
      r.primary.count === r.standby.count && r.primary.md5 === r.standby.md5 && r.primary.count > 0,
      `primary ${r.primary.count} rows md5 ${r.primary.md5.slice(0, 12)}, standby ${r.standby.count} rows md5 ${r.standby.md5.slice(0, 12)}`,
    ),
    check(
      3,
      `each trial message visible on the standby in < ${t.replicationLatencyMs} ms`,
      r.trials.length > 0 && slow.length === 0,
      r.trials
        .map((x) => `#${x.trial}: ${x.standbyMs === null ? "never" : `${x.standbyMs} ms`}`)
        .join(", "),
    ),
    check(
      3,
      `replay lag p99 under write load < ${t.replicationLatencyMs} ms`,
      r.lagMsSamples.length === 0 || lagP99 < t.replicationLatencyMs,
      r.lagMsSamples.length === 0
        ? "no replay_lag reported (standby idle between samples); see lag in bytes"
        : `p99 ${lagP99.toFixed(1)} ms over ${r.lagMsSamples.length} samples`,
    ),
    check(
      3,
      "write load: every request acknowledged",
      failures(r.load) === 0 && r.load.ok === r.load.requests,
      `ok=${r.load.ok}/${r.load.requests}`,
    ),
  ];
}

export function faultRunChecks(
  scenario: number,
  run: FaultRun,
  requireNoFailedRequests: boolean,
): Check[] {
  const out = [
    check(
      scenario,
      `${run.name}: every acknowledged message stored (no data loss)`,
      run.missing.length === 0 && run.acked > 0,
      `acked ${run.acked}, stored ${run.stored}, missing ${run.missing.length}${run.missing.length ? ` (e.g. ${run.missing.slice(0, 3).join(", ")})` : ""}`,
    ),
    check(
      scenario,
      `${run.name}: consumption resumed`,
      run.recoveryS !== null,
      run.recoveryS === null
        ? `consumption still paused at the end (max lag ${run.maxLag})`
        : `consumption resumed ${run.recoveryS.toFixed(1)} s after the fault; longest pause ${run.pauseS.toFixed(1)} s; max lag ${run.maxLag}`,
    ),
  ];
  if (requireNoFailedRequests) {
    out.push(
      check(
        scenario,
        `${run.name}: no failed request during the fault`,
        failures(run.load) === 0,
        `ok=${run.load.ok}/${run.load.requests}, non-2xx=${run.load.non2xx}, errors=${run.load.errors}`,
      ),
    );
  }
  return out;
}

/** Failed requests of a fault run in % of its requests. */
export function failedPct(run: FaultRun): number {
  return run.load.requests === 0 ? 0 : (100 * failures(run.load)) / run.load.requests;
}

function failedText(run: FaultRun): string {
  const kinds = Object.entries(run.failures ?? {})
    .map(([k, n]) => `${k} ×${n}`)
    .join(", ");
  const lbSide = failures(run.load) > 0 && run.lbSide ? ` (${run.lbSide})` : "";
  return `${failures(run.load)}/${run.load.requests} failed (${failedPct(run).toFixed(2)} %)${kinds ? `: ${kinds}` : ""}${lbSide}`;
}

/**
 * The issue's bar for a fault the stack must absorb (a broker or an app node): at most
 * FAULT_BOUNDS.maxFailedPct failed requests and no gap without an acknowledged write longer than
 * maxNoAckGapS; for a broker also the consumer pause bound.
 */
export function absorbedChecks(
  scenario: number,
  run: FaultRun,
  consumerPause: boolean,
  b: AbsorbedBounds = FAULT_BOUNDS,
): Check[] {
  const out = [
    check(
      scenario,
      `${run.name}: <= ${b.maxFailedPct} % failed requests`,
      failedPct(run) <= b.maxFailedPct,
      `${failedText(run)}; bound ${b.maxFailedPct} %`,
    ),
    check(
      scenario,
      `${run.name}: no-ack gap <= ${b.maxNoAckGapS} s`,
      Number.isFinite(run.ackGapS) && run.ackGapS <= b.maxNoAckGapS,
      Number.isFinite(run.ackGapS)
        ? `longest time without an acknowledged write ${run.ackGapS.toFixed(1)} s; bound ${b.maxNoAckGapS} s${run.ackGapS > b.maxNoAckGapS && run.lbSide ? ` (${run.lbSide})` : ""}`
        : "not recorded (a report from before the no-ack gap was measured)",
    ),
  ];
  if (consumerPause) {
    out.push(
      check(
        scenario,
        `${run.name}: consumer pause <= ${b.maxConsumerPauseS} s`,
        run.pauseS <= b.maxConsumerPauseS,
        `longest consumer pause ${run.pauseS.toFixed(1)} s; bound ${b.maxConsumerPauseS} s`,
      ),
    );
  }
  return out;
}

/** min.insync.replicas of a topic's `Configs:` field, or null when it does not set it. */
export function minInsyncOf(configs: string): number | null {
  const m = /(?:^|,)min\.insync\.replicas=(\d+)/.exec(configs);
  return m ? Number(m[1]) : null;
}

export function kafkaChecks(r: KafkaResult): Check[] {
  const fullIsr = r.topic.partitions.every(
    (p) => p.replicas.length > 0 && p.isr.length === p.replicas.length && p.leader !== null,
  );
  const out: Check[] = [
    check(
      4,
      `topic ${r.topic.topic}: replication factor ${r.expectedReplicationFactor}`,
      r.topic.replicationFactor === r.expectedReplicationFactor,
      `PartitionCount ${r.topic.partitionCount}, ReplicationFactor ${r.topic.replicationFactor}`,
    ),
    ...(r.expectedMinInsync === undefined
      ? []
      : [
          check(
            4,
            `topic ${r.topic.topic}: min.insync.replicas ${r.expectedMinInsync}`,
            minInsyncOf(r.topic.configs) === r.expectedMinInsync,
            `Configs: ${r.topic.configs || "none"}`,
          ),
        ]),
    check(
      4,
      "every partition has a leader and a full ISR",
      r.topic.partitions.length > 0 && fullIsr,
      r.topic.partitions
        .map(
          (p) =>
            `p${p.partition}: leader ${p.leader ?? "none"}, replicas ${p.replicas.join(",")}, isr ${p.isr.join(",")}`,
        )
        .join("; "),
    ),
    check(
      4,
      `KRaft quorum has ${r.expectedVoters} voters and a leader`,
      r.quorum.voters.length === r.expectedVoters && r.quorum.leaderId >= 0,
      `voters ${r.quorum.voters.join(",")}, leader ${r.quorum.leaderId}`,
    ),
    check(
      4,
      "re-sent message_uids stored once",
      r.idempotency.rows === r.idempotency.sent && r.idempotency.distinct === r.idempotency.sent,
      `sent ${r.idempotency.sent} + re-sent ${r.idempotency.resent}: rows ${r.idempotency.rows}, distinct ${r.idempotency.distinct}`,
    ),
  ];
  if (r.idempotency.duplicatesSkippedDelta !== null) {
    out.push(
      check(
        4,
        "the consumers counted the re-sent messages as duplicates skipped",
        r.idempotency.duplicatesSkippedDelta >= r.idempotency.resent,
        `duplicates skipped +${r.idempotency.duplicatesSkippedDelta} for ${r.idempotency.resent} re-sent`,
      ),
    );
  }
  for (const trial of r.trials) {
    out.push(...faultRunChecks(4, trial, false));
    if (trial.stopped !== null) out.push(...absorbedChecks(4, trial, true));
  }
  if (r.trials.some((x) => x.stopped !== null)) {
    const want = r.topic.partitions[0]?.replicas.length ?? 0;
    out.push(
      check(
        4,
        "stopped brokers back in the ISR",
        r.isrAfter.length === want,
        `ISR after restore: ${r.isrAfter.join(",")} (replicas ${want})`,
      ),
    );
  }
  return out;
}

export function observabilityChecks(r: ObservabilityResult): Check[] {
  const down = r.targets.filter((x) => x.health !== "up");
  const slow = r.scrape.filter(
    (s) => s.maxMs !== null && s.timeoutMs !== null && s.maxMs >= s.timeoutMs,
  );
  return [
    check(
      5,
      "every Prometheus target up",
      r.targets.length > 0 && down.length === 0,
      down.length === 0
        ? `${r.targets.length} targets up`
        : `down: ${down.map((d) => `${d.job}/${d.instance} (${d.lastError || d.health})`).join("; ")}`,
    ),
    check(
      5,
      "every job's slowest scrape within its scrape timeout",
      r.scrape.length > 0 && slow.length === 0,
      slow.length === 0
        ? `${r.scrape.length} jobs`
        : slow.map((s) => `${s.job} max ${s.maxMs} ms`).join("; "),
    ),
    ...(r.load
      ? [
          check(
            5,
            "the steady write load of the scrape window: every request successful",
            failures(r.load) === 0 && r.load.ok === r.load.requests && r.load.requests > 0,
            `ok=${r.load.ok}/${r.load.requests}, non-2xx=${r.load.non2xx}, errors=${r.load.errors}`,
          ),
        ]
      : []),
  ];
}

export function failoverChecks(r: FailoverResult): Check[] {
  const out: Check[] = [];
  if (r.web) {
    out.push(...faultRunChecks(6, r.web, true));
    out.push(
      check(
        6,
        "webserver1 restored: the LB serves from both app nodes again",
        r.webBothServingAfter === true,
        String(r.webBothServingAfter),
      ),
    );
  }
  if (r.pg && r.pgFacts) {
    const f = r.pgFacts;
    out.push(
      check(
        6,
        "PG primary down: writes refused with a clear error",
        f.writeRefused,
        f.writeError || "write was accepted",
      ),
      check(
        6,
        "PG primary down: reads served by the standby",
        f.readServed && f.readFromStandby,
        `read served ${f.readServed}, from a node in recovery ${f.readFromStandby}`,
      ),
      check(
        6,
        "no split brain: never more than one writable PostgreSQL",
        f.writablePrimaries.every((n) => n <= 1),
        `writable nodes per probe: ${f.writablePrimaries.join(",")}`,
      ),
      check(
        6,
        "PG primary back: writes resume, standby streams and matches",
        f.writesResumed && f.standbyStreamingAfter && f.digestsEqualAfter,
        `writes ${f.writesResumed}, streaming ${f.standbyStreamingAfter}, identical ${f.digestsEqualAfter}`,
      ),
      ...faultRunChecks(6, r.pg, false),
    );
  }
  if (r.kafka) {
    out.push(...faultRunChecks(6, r.kafka, false), ...absorbedChecks(6, r.kafka, true));
    out.push(
      check(
        6,
        "kafka1 restored: back in the ISR",
        (r.kafkaIsrAfter?.length ?? 0) >= 2,
        `ISR ${r.kafkaIsrAfter?.join(",") ?? "unknown"}`,
      ),
    );
  }
  return out;
}

function seconds(v: number | null): string {
  return v === null ? "never" : `${v.toFixed(0)} s`;
}

/** Scenario 7: every expected alert fired, reached Alertmanager and resolved after the restart. */
export function alertingChecks(r: AlertingResult): Check[] {
  const label = (m: AlertingResult["milestones"][number]): string => `${m.alert}{node=${m.node}}`;
  const list = (pick: (m: AlertingResult["milestones"][number]) => string): string =>
    r.milestones.map((m) => `${label(m)} ${pick(m)}`).join("; ");
  const all = (ok: (m: AlertingResult["milestones"][number]) => boolean): boolean =>
    r.milestones.length > 0 && r.milestones.every(ok);
  return [
    check(
      7,
      `every expected alert firing in Prometheus within ${r.fireBoundS} s of the stop (${r.stopped.join(", ")})`,
      all((m) => m.firingS !== null && m.firingS <= r.fireBoundS),
      list((m) => seconds(m.firingS)),
    ),
    check(
      7,
      "every expected alert in Alertmanager (API v2): critical ones active, TargetDown inhibited by them",
      all((m) => m.alertmanagerS !== null),
      list((m) => seconds(m.alertmanagerS)),
    ),
    check(
      7,
      `every expected alert resolved in Prometheus and Alertmanager within ${r.resolveBoundS} s of the restart`,
      all((m) => {
        const prom = afterRestoreS(m.resolvedPrometheusS, r.restoredAtS);
        const am = afterRestoreS(m.resolvedAlertmanagerS, r.restoredAtS);
        return prom !== null && am !== null && am <= r.resolveBoundS;
      }),
      list(
        (m) =>
          `${seconds(afterRestoreS(m.resolvedPrometheusS, r.restoredAtS))} / ${seconds(afterRestoreS(m.resolvedAlertmanagerS, r.restoredAtS))} after the start`,
      ),
    ),
  ];
}

const LAYER_NOTE: Partial<Record<FaultLayer, string>> = {
  lb: "LB: writes through it fail until the VIP moves (LB pair) or it is back",
  "pg-primary": "no automatic promotion: DB writes fail while the primary is gone",
};

/** Every fault: each acknowledged message stored, none twice. */
function deliveryChecks(
  c: (name: string, pass: boolean, detail: string) => Check,
  run: FaultRun,
): Check[] {
  return [
    c(
      "every acknowledged message stored (0 lost)",
      run.missing.length === 0 && run.acked > 0,
      `acked ${run.acked}, stored ${run.stored}, lost ${run.missing.length}`,
    ),
    c(
      "0 duplicates",
      run.duplicates === 0,
      `${run.duplicates ?? "unknown"} rows beyond one per message_uid`,
    ),
  ];
}

/** The pass conditions of one hard fault (scenario 8). */
export function hardFaultChecks(f: HardFaultResult): Check[] {
  const b = FAULT_BOUNDS;
  const label = `${f.kind === "sigkill" ? "SIGKILL" : "link down"} ${f.node}`;
  const c = (name: string, pass: boolean, detail: string): Check =>
    check(8, `${label}: ${name}`, pass, detail);
  const run = f.run;
  if (!run) return [c("fault ran to the end", false, f.error ?? "no result")];
  const bars = faultBars(f.layer as FaultLayer);
  const out: Check[] = [
    ...deliveryChecks(c, run),
    c(
      "after the heal: standby streaming, rows identical",
      f.after !== null && f.after.standbyStreaming && f.after.replicaIdentical,
      f.after
        ? `streaming ${f.after.standbyStreaming}, identical ${f.after.replicaIdentical} (${f.after.replicationDetail})`
        : "not checked (the heal did not complete)",
    ),
    c(
      "after the heal: full ISR, every voter present",
      f.after !== null && f.after.fullIsr && f.after.missingVoters.length === 0,
      f.after
        ? `${f.after.isrDetail}; voters ${f.after.expectedVoters.join(",")}, missing ${f.after.missingVoters.join(",") || "none"}`
        : "not checked (the heal did not complete)",
    ),
  ];
  if (f.kind === "sigkill") {
    out.push(
      c(
        `${f.unit} restarted by itself within ${b.maxSelfRestartS} s`,
        f.selfRestartS !== null && f.selfRestartS <= b.maxSelfRestartS,
        f.selfRestartS !== null
          ? `active again after ${f.selfRestartS.toFixed(1)} s; bound ${b.maxSelfRestartS} s`
          : `not active again within ${b.maxSelfRestartS} s${f.startedByDrill ? ": started by the drill" : ""}`,
      ),
    );
  } else {
    out.push(
      c(
        "the container restored its own link",
        f.linkRestoredS !== null && !f.linkUpByDrill,
        f.linkRestoredS !== null
          ? `link up after ${f.linkRestoredS.toFixed(1)} s`
          : "set up by the drill",
      ),
    );
  }
  out.push(
    c(
      `serving again within ${f.servingBoundS} s of the heal (${f.servingProbe})`,
      f.servingAfterHealS !== null && f.servingAfterHealS <= f.servingBoundS,
      `${f.servingAfterHealS === null ? "not within the bound" : `${f.servingAfterHealS.toFixed(1)} s`}; bound ${f.servingBoundS} s${LAYER_NOTE[f.layer as FaultLayer] ? `; ${LAYER_NOTE[f.layer as FaultLayer]}` : ""}`,
    ),
  );
  if (bars.absorbed) {
    out.push(...absorbedChecks(8, { ...run, name: label }, bars.consumerPause));
  }
  if (bars.noFailure) {
    out.push(
      c("write path unaffected: 0 failed requests", failures(run.load) === 0, failedText(run)),
    );
  }
  if (bars.pgPrimary) {
    out.push(
      c(
        "never two writable PostgreSQL nodes",
        f.writablePrimaries.length > 0 && f.writablePrimaries.every((n) => n <= 1),
        `writable nodes per probe: ${f.writablePrimaries.join(",")}`,
      ),
    );
  }
  return out;
}

export function hardFaultsChecks(r: HardFaultsResult): Check[] {
  return r.faults.flatMap(hardFaultChecks);
}

/**
 * The pass conditions of one host loss (scenario 9). Every loss: 0 lost, 0 duplicates, never two
 * writable PG nodes, after the restart the standby streams with identical rows, full ISR and every
 * voter, everything serving again within the bound. A loss that takes no single point (LB,
 * HAProxy, PG primary) also keeps writes going: the broker/app bounds of scenario 8.
 */
export function hostLossChecks(h: HostLossResult): Check[] {
  const c = (name: string, pass: boolean, detail: string): Check =>
    check(9, `${h.host} lost: ${name}`, pass, detail);
  const run = h.run;
  if (!run || h.error) return [c("loss ran to the end", false, h.error ?? "no result")];
  const out: Check[] = [
    ...deliveryChecks(c, run),
    c(
      "never two writable PostgreSQL nodes",
      h.writablePrimaries.length > 0 && h.writablePrimaries.every((n) => n <= 1),
      `writable nodes per probe: ${h.writablePrimaries.join(",")}`,
    ),
    c(
      "after the restart: standby streaming, rows identical",
      h.after !== null && h.after.standbyStreaming && h.after.replicaIdentical,
      h.after
        ? `streaming ${h.after.standbyStreaming}, identical ${h.after.replicaIdentical} (${h.after.replicationDetail})`
        : "not checked (the restart did not complete)",
    ),
    c(
      "after the restart: full ISR, every voter present",
      h.after !== null && h.after.fullIsr && h.after.missingVoters.length === 0,
      h.after
        ? `${h.after.isrDetail}; voters ${h.after.expectedVoters.join(",")}, missing ${h.after.missingVoters.join(",") || "none"}`
        : "not checked (the restart did not complete)",
    ),
    c(
      `every lost layer and the LB serving again within ${h.servingBoundS} s of the restart`,
      h.servingAgainS !== null && h.servingAgainS <= h.servingBoundS,
      h.servingAgainS === null
        ? `not within the bound; still failing: ${h.notServing.join(", ")}`
        : `${h.servingAgainS.toFixed(1)} s; bound ${h.servingBoundS} s${h.outages.length ? " (writes back)" : ""}`,
    ),
  ];
  if (h.absorbed) {
    out.push(
      ...absorbedChecks(9, { ...run, name: `${h.host} lost` }, h.consumerPause, HOST_LOSS_BOUNDS),
    );
  }
  const pg = h.pg;
  if (pg?.primaryLost && !h.outages.includes("haproxy")) {
    const bound = PG_FAILOVER_BOUNDS.maxWritesBackS;
    out.push(
      c(
        `the PG primary's host: writes through HAProxy back within ${bound} s (pgFailover auto)`,
        pg.writesBackS !== null && pg.writesBackS <= bound,
        `${pg.writesBackS === null ? "never" : `${pg.writesBackS.toFixed(1)} s`}; primary ${pg.primaryBefore} lost; ${pg.commits.ok}/${pg.commits.attempts} direct commits, ${pg.committedLost} committed rows lost${pg.synchronous ? "" : " (asynchronous)"}`,
      ),
    );
    if (pg.synchronous)
      out.push(
        c(
          "every commit that returned is on the new primary (synchronous)",
          pg.committedLost === 0 && pg.commits.ok > 0,
          `${pg.committedLost} of ${pg.commits.ok} committed rows missing`,
        ),
      );
  }
  return out;
}

export function hostLossesChecks(r: HostLossesResult): Check[] {
  return r.losses.flatMap(hostLossChecks);
}

const secondsText = (s: number | null | undefined): string =>
  s === null || s === undefined ? "never" : `${s.toFixed(1)} s`;

/**
 * The pass conditions of one fault of the LB pair's VIP holder (scenario 10): the VIP on the other
 * LB within the bound, only the requests in flight failed, nothing lost, and the returning LB
 * neither takes the VIP back nor fails a request, nor holds it beside the other for longer than
 * one advertisement interval.
 */
export function lbPairTrialChecks(t: LbPairTrial, advertIntervalMs: number): Check[] {
  const b = LB_PAIR_BOUNDS;
  const c = (name: string, pass: boolean, detail: string): Check =>
    check(10, `LB pair ${t.kind} #${t.trial}: ${name}`, pass, detail);
  const run = t.run;
  if (!run || t.error) return [c("trial ran to the end", false, t.error ?? "no result")];
  const failed = failures(run.load);
  const host = t.hostViewed
    ? `; the host sent to ${t.newHolder ?? "?"} after ${secondsText(t.hostSwitchedS)}`
    : "";
  const after = run.afterHeal;
  const dual = t.dualHolderAfterHealMs ?? 0;
  return [
    c(
      `VIP on the other LB within ${b.maxVipMoveS} s`,
      t.vipMovedS !== null && t.vipMovedS !== undefined && t.vipMovedS <= b.maxVipMoveS,
      `${t.holder} -> ${t.newHolder ?? "none"} after ${secondsText(t.vipMovedS)}${host}`,
    ),
    c(
      `requests failed only until the VIP moved (+ ${b.failoverGraceS} s)`,
      failed === 0 ||
        (run.failedSentS !== undefined &&
          t.vipMovedS !== null &&
          t.vipMovedS !== undefined &&
          run.failedSentS.last <= t.vipMovedS + b.failoverGraceS),
      `${failedText(run)}${run.failedSentS ? `; sent ${run.failedSentS.first.toFixed(1)}-${run.failedSentS.last.toFixed(1)} s after the fault` : ""}`,
    ),
    ...deliveryChecks(c, run),
    c(
      "the returning LB: no failed request, the VIP stays where it went",
      after !== undefined &&
        after.failed <= b.maxFailedAfterHeal &&
        (t.holdersAtEnd ?? []).length === 1 &&
        t.holdersAtEnd?.[0] === t.newHolder,
      `${after ? `${after.failed}/${after.requests} failed after the heal` : "heal not completed"}; holder at the end ${(t.holdersAtEnd ?? []).join(",") || "none"}`,
    ),
    c(
      `never two VIP holders for longer than one advert (${advertIntervalMs} ms) after the heal`,
      dual <= advertIntervalMs,
      `longest two-holder stretch ${dual} ms (polled every ${b.pollMs} ms)`,
    ),
  ];
}

/**
 * The pass conditions of one fault of the PostgreSQL primary with pgFailover auto (scenario 14):
 * writes through HAProxy back within the issue's 10 s, never two writable nodes, the faulted node
 * back as a streaming replica with the same rows, nothing acknowledged lost or doubled; with
 * pgSynchronous every commit that returned is on the primary afterwards (asynchronous: reported).
 */
export function pgFailoverTrialChecks(t: PgFailoverTrial, synchronous: boolean): Check[] {
  const b = PG_FAILOVER_BOUNDS;
  const c = (name: string, pass: boolean, detail: string): Check =>
    check(14, `PG ${synchronous ? "sync" : "async"} ${t.kind} #${t.trial}: ${name}`, pass, detail);
  const run = t.run;
  if (!run || t.error) return [c("trial ran to the end", false, t.error ?? "no result")];
  const back = t.writesBackS;
  const out = [
    c(
      `writes through HAProxy back within ${b.maxWritesBackS} s`,
      back !== null && back !== undefined && back <= b.maxWritesBackS,
      `${back === null || back === undefined ? "never" : `${back.toFixed(1)} s`} (primary ${t.primaryBefore} -> ${t.primaryAfter}; ${t.commits?.ok}/${t.commits?.attempts} direct commits)`,
    ),
    c(
      "never two writable nodes",
      t.twoWriterPolls === 0 && (t.writerPolls ?? 0) > 0,
      `${t.twoWriterPolls} of ${t.writerPolls} polls with two writable nodes (longest ${t.twoWriterLongestMs} ms)`,
    ),
    c(
      "the faulted node back: one primary, a streaming replica with the same rows",
      t.rejoinedS !== null &&
        t.rejoinedS !== undefined &&
        t.after?.standbyStreaming === true &&
        t.after.replicaIdentical,
      `${t.rejoinedS === null || t.rejoinedS === undefined ? "not within the bound" : `after ${t.rejoinedS.toFixed(1)} s`}; ${t.after?.replicationDetail ?? ""}`,
    ),
    ...deliveryChecks(c, run),
  ];
  if (synchronous)
    out.push(
      c(
        "every commit that returned is on the new primary (synchronous)",
        t.committedLost === 0 && (t.commits?.ok ?? 0) > 0,
        `${t.committedLost} of ${t.commits?.ok} committed rows missing${t.committedLostSample?.length ? ` (${t.committedLostSample.join(", ")})` : ""}`,
      ),
    );
  return out;
}

export function pgFailoverChecks(r: PgFailoverResult): Check[] {
  if (!r.drilled) return [];
  return r.trials.flatMap((t) => pgFailoverTrialChecks(t, r.synchronous));
}

export function lbPairChecks(r: LbPairResult): Check[] {
  if (!r.drilled) return [];
  return r.trials.flatMap((t) => lbPairTrialChecks(t, r.advertIntervalMs));
}

/**
 * The pass conditions of one day-2 change (scenario 11): `up` succeeded within the load, not one
 * failed request, nothing lost or stored twice, every app node restarted and never two of them
 * out at once.
 */
export function rollingTrialChecks(t: RollingTrial): Check[] {
  const c = (name: string, pass: boolean, detail: string): Check =>
    check(11, `${t.label}: ${name}`, pass, detail);
  const run = t.run;
  if (!run || t.error) return [c("change ran to the end", false, t.error ?? "no result")];
  const out: Check[] = [
    c(
      "`up` succeeded while the load ran",
      t.upExit === 0 && (t.upTookS ?? Infinity) < (t.loadAfterStartS ?? 0),
      `exit ${t.upExit} after ${t.upTookS?.toFixed(1)} s (the load ran ${t.loadAfterStartS} s after it began)${t.upTail ? `: ${t.upTail}` : ""}`,
    ),
    c("0 failed requests", failures(run.load) === 0, failedText(run)),
    ...deliveryChecks(c, run),
  ];
  {
    const restarted = t.restarted ?? [];
    out.push(
      c(
        `every ${LAYER_NAMES[t.restarts]} node restarted, one at a time`,
        restarted.length > 0 && restarted.every((r) => r.restarted) && t.pollsWithSeveralOut === 0,
        `restarted: ${restarted.map((r) => `${r.node} ${r.restarted ? "yes" : "no"}`).join(", ")}; out in order ${t.outOrder?.join(", ") || "-"}; ${t.pollsWithSeveralOut} of ${t.polls} polls with more than one node out`,
      ),
    );
    if (t.firstExpected !== undefined) {
      out.push(
        c(
          "the replica restarted before the primary",
          t.outOrder?.[0] === t.firstExpected,
          `replica when the change began: ${t.firstExpected}; out in order ${t.outOrder?.join(", ") || "-"}`,
        ),
      );
    }
  }
  return out;
}

const LAYER_NAMES: Record<RollingTrial["restarts"], string> = {
  app: "app",
  kafka: "Kafka",
  pg: "PostgreSQL",
};

export function rollingChecks(r: RollingResult): Check[] {
  return r.drilled ? r.trials.flatMap(rollingTrialChecks) : [];
}

/**
 * Scenario 12: the full backup under load, every acked write stored, each restore writable in
 * bound with rows identical to the source's (a point-in-time restore exactly the rows up to its
 * target; a latest restore missing at most the last archive_timeout), the freshness series.
 */
export function restoreChecks(r: RestoreResult): Check[] {
  if (!r.drilled) return [];
  const c = (name: string, pass: boolean, detail: string): Check => check(12, name, pass, detail);
  const out: Check[] = [
    c(
      "full backup under the write load succeeded",
      r.backupOk === true,
      `${r.backupOk ? "ok" : `failed: ${r.backupError ?? "?"}`} in ${r.backupTookS?.toFixed(1)} s`,
    ),
    c(
      "every acknowledged write stored",
      r.acked !== undefined && r.acked > 0 && r.ackedStored === r.acked,
      `${r.ackedStored} of ${r.acked} acked stored; ${r.failed} failed requests`,
    ),
    c(
      "backup freshness exported to Prometheus",
      r.backupMetricAgeS !== undefined && r.backupMetricAgeS !== null,
      r.backupMetricAgeS === null || r.backupMetricAgeS === undefined
        ? `no fresh pve_ha_pg_backup_last_success_timestamp_seconds within ${RESTORE_BOUNDS.metricWithinS} s`
        : `newest full backup ${r.backupMetricAgeS.toFixed(0)} s old`,
    ),
  ];
  for (const t of r.trials) {
    const label = t.kind === "latest" ? "restore to the latest point" : "point-in-time restore";
    if (t.error || !t.rows) {
      out.push(c(`${label} ran to the end`, false, t.error ?? "no rows compared"));
      continue;
    }
    const rows = t.rows;
    out.push(
      c(
        `${label}: writable within ${RESTORE_BOUNDS.maxRtoS} s`,
        (t.rtoS ?? Infinity) <= RESTORE_BOUNDS.maxRtoS,
        `RTO ${t.rtoS?.toFixed(1)} s`,
      ),
    );
    if (t.kind === "time") {
      out.push(
        c(
          `${label}: exactly the source's rows up to the target`,
          rows.missing === 0 && rows.foreign === 0 && rows.restored === rows.source,
          `${rows.restored} restored of ${rows.source}; ${rows.missing} missing, ${rows.foreign} foreign or changed`,
        ),
      );
    } else {
      const bound = r.archiveTimeoutS + RESTORE_BOUNDS.rpoSlackS;
      out.push(
        c(
          `${label}: no foreign or changed row, RPO within archive_timeout`,
          rows.foreign === 0 && (t.rpoS ?? Infinity) <= bound,
          `${rows.restored} restored of ${rows.source}; ${rows.missing} missing (RPO ${t.rpoS?.toFixed(1)} s, bound ${bound} s), ${rows.foreign} foreign or changed`,
        ),
      );
    }
  }
  return out;
}

/** Every check of every scenario that ran, plus one failing check per scenario that threw. */
export function allChecks(results: DrillResults, t: Thresholds = DEFAULT_THRESHOLDS): Check[] {
  const out: Check[] = [];
  if (results.lbSplit) out.push(...lbSplitChecks(results.lbSplit, t));
  if (results.webWrite) out.push(...webWriteChecks(results.webWrite));
  if (results.replication) out.push(...replicationChecks(results.replication, t));
  if (results.kafka) out.push(...kafkaChecks(results.kafka));
  if (results.observability) out.push(...observabilityChecks(results.observability));
  if (results.failover) out.push(...failoverChecks(results.failover));
  if (results.alerting) out.push(...alertingChecks(results.alerting));
  if (results.hardFaults) out.push(...hardFaultsChecks(results.hardFaults));
  if (results.hostLoss) out.push(...hostLossesChecks(results.hostLoss));
  if (results.lbPair) out.push(...lbPairChecks(results.lbPair));
  if (results.rolling) out.push(...rollingChecks(results.rolling));
  if (results.restore) out.push(...restoreChecks(results.restore));
  if (results.security) out.push(...securityChecks(results.security));
  if (results.pgFailover) out.push(...pgFailoverChecks(results.pgFailover));
  for (const [scenario, error] of Object.entries(results.errors)) {
    out.push(check(Number(scenario), "scenario ran to the end", false, error));
  }
  return out.sort((a, b) => a.scenario - b.scenario);
}

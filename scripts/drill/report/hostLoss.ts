import { FAULT_BOUNDS, HOST_LOSS_BOUNDS } from "../bounds";
import { hostLossChecks } from "../conditions";
import { PG_FAILOVER_BOUNDS } from "../pgFailover/plan";
import { outageText, type Outage } from "../hostLoss/plan";
import type { DrillResults, HostLossResult } from "../types";
import { failedCell } from "./failedCell";
import { num, table } from "./format";

/** "LB GET / 0/14, webserver1 /readyz 14/14, ...": what kept serving while the host was down. */
export function servingCell(h: HostLossResult): string {
  const probes = h.duringLoss.map((p) => `${p.probe} ${p.ok}/${p.total}`);
  const w = h.run?.faultWindow;
  if (w) {
    probes.push(`Kafka acks via LB ${w.acked}`);
    probes.push(`consumed ${w.stored === null ? "unknown (primary unreadable)" : w.stored}`);
  }
  return probes.join(", ") || "–";
}

/** pgFailover auto: whether the loss took the primary, when writes came back, commits kept. */
export function pgCell(h: HostLossResult): string {
  const pg = h.pg;
  if (!pg) return "–";
  const back = pg.writesBackS === null ? "never" : `${num(pg.writesBackS)} s`;
  return `${pg.primaryBefore}${pg.primaryLost ? " lost" : " kept"}, back after ${back}, ${pg.commits.ok - pg.committedLost}/${pg.commits.ok} commits kept`;
}

/** One row of the per-host table. */
export function hostLossRow(h: HostLossResult): string[] {
  const run = h.run;
  const failed = hostLossChecks(h).filter((c) => !c.pass).length;
  const a = h.after;
  return [
    h.host,
    h.nodes.join(", "),
    outageText(h.outages as Outage[]) ?? "none: writes must go on",
    servingCell(h),
    failedCell(h.run),
    run ? `${num(run.ackGapS)} s` : "–",
    run ? `${num(run.pauseS)} s` : "–",
    run ? `${run.acked} / ${run.stored} / ${run.missing.length}` : "–",
    run ? String(run.duplicates ?? "–") : "–",
    h.writablePrimaries.length ? `max ${Math.max(...h.writablePrimaries)}` : "–",
    pgCell(h),
    a
      ? `${a.standbyStreaming ? "streaming" : "NOT streaming"}, ${a.replicaIdentical ? "identical" : "DIFFERENT"}`
      : "–",
    a
      ? `${a.fullIsr ? "ISR full" : "ISR short"}, voters ${a.missingVoters.length ? `missing ${a.missingVoters.join(",")}` : "all"}`
      : "–",
    h.servingAgainS === null ? `not within ${h.servingBoundS} s` : `${num(h.servingAgainS)} s`,
    h.error ? "FAIL (error)" : failed === 0 ? "PASS" : `FAIL (${failed})`,
  ];
}

/** Scenario 9: one row per Proxmox host lost, the bars, and what refusing by design means. */
export function hostLossSection(r: DrillResults): string[] {
  const h = r.hostLoss;
  if (!h) return [];
  const head = "## Scenario 9 — host loss: every container of one Proxmox host stopped at once";
  if (!h.drilled) return [head, "", `${h.note ?? "not drilled"}; no checks.`, ""];
  const b = FAULT_BOUNDS;
  return [
    head,
    "",
    `${h.losses.length} hosts (${h.hosts.join(", ")}), one at a time, each under the write load through the LB: \`pct stop\` of all its containers launched in parallel, ${h.downS} s down, \`pct start\` of all, then the drill waits for every lost layer to serve again; the family took ${num(h.durationS / 60)} min.`,
    "",
    table(
      [
        "host",
        "containers",
        "single points lost",
        "kept serving during the loss (probe ok/total)",
        "failed / total (how)",
        "no-ack gap",
        "consumer pause",
        "acked / stored / lost",
        "duplicates",
        "writable PG nodes",
        "PG primary (auto): writes back, commits kept",
        "replication after",
        "Kafka after",
        "everything serving after the restart",
        "pass",
      ],
      h.losses.map(hostLossRow),
    ),
    "",
    ...h.losses
      .filter((l) => l.outages.length > 0)
      .map(
        (l) =>
          `- ${l.host}: ${outageText(l.outages as Outage[]) ?? ""}; held to the paper's bars only (no split brain, no acknowledged message lost, catch-up after the restart, writes back within ${b.maxHostBackS} s).`,
      ),
    "",
    `Bars: every host: 0 acknowledged messages lost, 0 duplicates, never two writable PostgreSQL nodes, after the restart the standby streams with identical rows and every partition has a full ISR with every controller voter caught up, every lost layer and the LB serve again within ${b.maxHostBackS} s of the restart. A host holding none of the single points (LB, HAProxy, and with pgFailover manual the PG primary): ≤ ${HOST_LOSS_BOUNDS.maxFailedPct} % failed requests and no-ack gap ≤ ${HOST_LOSS_BOUNDS.maxNoAckGapS} s, with a broker among its containers also consumer pause ≤ ${HOST_LOSS_BOUNDS.maxConsumerPauseS} s. Probes during the loss run about once a second (HTTP 2 s timeout; the HAProxy probes from a PostgreSQL container off the lost host); "Kafka acks via LB" counts writes acknowledged through the LB while the host was down, "consumed" the rows of the load stored meanwhile (read on the primary). With pgFailover auto, scenario 14's direct-commit probe runs across each loss from an app node that stays; losing the primary's host must have writes through HAProxy back within ${PG_FAILOVER_BOUNDS.maxWritesBackS} s (unless the host also holds HAProxy).`,
    "",
    `Timelines: ${h.losses
      .filter((l) => l.run?.timelinePng || l.run?.timelineSvg)
      .map((l) => `[${l.host}](${l.run?.timelinePng ?? l.run?.timelineSvg})`)
      .join(", ")}`,
    "",
  ];
}

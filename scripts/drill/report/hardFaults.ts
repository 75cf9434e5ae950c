import { FAULT_BOUNDS } from "../bounds";
import { hardFaultChecks } from "../conditions";
import type { DrillResults, HardFaultResult } from "../types";
import { failedCell } from "./failedCell";
import { num, table } from "./format";

function backCell(f: HardFaultResult): string {
  if (f.kind === "sigkill") {
    if (f.selfRestartS !== null) return `active after ${num(f.selfRestartS)} s`;
    return f.startedByDrill ? "not by itself: started by the drill" : "–";
  }
  if (f.linkUpByDrill) return "set up by the drill";
  return f.linkRestoredS !== null ? `link up after ${num(f.linkRestoredS)} s` : "–";
}

export function hardFaultRow(f: HardFaultResult): string[] {
  const run = f.run;
  const checks = hardFaultChecks(f);
  const failed = checks.filter((c) => !c.pass).length;
  return [
    `${f.kind === "sigkill" ? "SIGKILL" : "link down"} ${f.node}`,
    f.layer,
    failedCell(f.run),
    run ? `${num(run.ackGapS)} s` : "–",
    run ? `${num(run.pauseS)} s` : "–",
    run ? `${run.acked} / ${run.stored} / ${run.missing.length}` : "–",
    run ? String(run.duplicates ?? "–") : "–",
    backCell(f),
    f.servingAfterHealS === null
      ? `not within ${f.servingBoundS} s`
      : `${num(f.servingAfterHealS)} s (≤ ${f.servingBoundS} s)`,
    failed === 0 ? "PASS" : `FAIL (${failed})`,
  ];
}

/** Scenario 8: one row per hard fault, the bounds, and what each column means. */
export function hardFaultsSection(r: DrillResults): string[] {
  const h = r.hardFaults;
  if (!h) return [];
  const b = FAULT_BOUNDS;
  return [
    "## Scenario 8 — hard faults: SIGKILL of the main process, link down",
    "",
    `${h.faults.length} faults, one at a time, each under the write load through the LB; link down ${h.linkDownS} s; the family took ${num(h.durationS / 60)} min.`,
    "",
    table(
      [
        "fault",
        "layer",
        "failed / total (how)",
        "no-ack gap",
        "consumer pause",
        "acked / stored / lost",
        "duplicates",
        "service back",
        "serving again after the heal",
        "pass",
      ],
      h.faults.map(hardFaultRow),
    ),
    "",
    `Bars: every fault: 0 acknowledged messages lost, 0 duplicates, after the heal the standby streams with identical rows and every partition has a full ISR with every controller voter caught up; a killed unit is active again by itself within ${b.maxSelfRestartS} s; the layer serves again within its bound after the heal (Kafka ${b.maxKafkaServingAfterHealS} s, PG primary writes ${b.maxWritesResumeS} s, others ${b.maxServingAfterHealS} s). Kafka brokers and app nodes: ≤ ${b.maxFailedPct} % failed requests and no-ack gap ≤ ${b.maxNoAckGapS} s; brokers also consumer pause ≤ ${b.maxConsumerPauseS} s. Monitor: 0 failed requests. PG primary: never two writable nodes. LB, HAProxy, PG standby and the controller-only voter: no failure bar (the LB and HAProxy are single instances), only the ones every fault has. Failed requests: \`HTTP <status>\` answers, \`timeout\`s (the load's client timeout, twice nginx's read timeout + 2 s) and transport errors of the load, which is open-loop (one request every 1/rate s, each counted once). Service back: SIGKILL until systemd had the unit active with a new main PID, or link down until the link was up again.`,
    "",
    `Timelines: ${h.faults
      .filter((f) => f.run?.timelinePng || f.run?.timelineSvg)
      .map((f) => `[${f.id}](${f.run?.timelinePng ?? f.run?.timelineSvg})`)
      .join(", ")}`,
    "",
  ];
}

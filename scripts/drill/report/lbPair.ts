import { LB_PAIR_BOUNDS } from "../bounds";
import { lbPairTrialChecks } from "../conditions";
import type { DrillResults, LbPairTrial } from "../types";
import { failedCell } from "./failedCell";
import { num, table } from "./format";

export function lbPairRow(t: LbPairTrial, advertIntervalMs: number): string[] {
  const failed = lbPairTrialChecks(t, advertIntervalMs).filter((c) => !c.pass).length;
  const run = t.run;
  return [
    `${t.kind} #${t.trial}`,
    `${t.holder ?? "?"} → ${t.newHolder ?? "none"}`,
    t.vipMovedS === null || t.vipMovedS === undefined ? "never" : `${num(t.vipMovedS)} s`,
    t.hostViewed
      ? t.hostSwitchedS === null || t.hostSwitchedS === undefined
        ? "never"
        : `${num(t.hostSwitchedS)} s`
      : "–",
    failedCell(t.run),
    run ? `${num(run.ackGapS)} s` : "–",
    run?.afterHeal ? `${run.afterHeal.failed}/${run.afterHeal.requests}` : "–",
    `${t.dualHolderAfterHealMs ?? "–"} ms`,
    run ? `${run.acked} / ${run.stored} / ${run.missing.length}` : "–",
    t.error ? "FAIL (error)" : failed === 0 ? "PASS" : `FAIL (${failed})`,
  ];
}

/** Scenario 10: every fault of the VIP holder, one row each, and the bars. */
export function lbPairSection(r: DrillResults): string[] {
  const p = r.lbPair;
  if (!p) return [];
  const head = "## Scenario 10 — LB pair: faults of the virtual IP's holder";
  if (!p.drilled) return [head, "", `${p.note ?? "not drilled"}; no checks.`, ""];
  const b = LB_PAIR_BOUNDS;
  return [
    head,
    "",
    `Virtual IP ${p.vip} on ${p.nodes?.join(" + ")}, VRRP adverts every ${p.advertIntervalMs} ms. Each trial: the write load through the VIP, then a fault of whichever LB holds the VIP at that moment (discovered, not planned): SIGKILL of nginx's main process (systemd restarts it), \`pct stop\` for ${b.stopS} s, or its link down for ${b.linkDownS} s; ${b.tailS} s of load after the LB is back. The VIP holder is polled every ${b.pollMs} ms in both LB nodes (address on an up link); on the sandbox also the host's neighbour entry for the VIP. The family took ${num(p.durationS / 60)} min.`,
    "",
    table(
      [
        "trial",
        "VIP holder → new",
        "VIP moved after",
        "host switched after",
        "failed / total (how)",
        "no-ack gap",
        "failed after the heal",
        "two holders after the heal",
        "acked / stored / lost",
        "pass",
      ],
      p.trials.map((t) => lbPairRow(t, p.advertIntervalMs)),
    ),
    "",
    `Bars: the VIP on the other LB within ${b.maxVipMoveS} s; no request sent more than ${b.failoverGraceS} s after the VIP moved fails (an open-loop load: one request every 1/rate s whatever the answers, each counted once); 0 acknowledged messages lost, 0 duplicates; after the faulted LB is back ${b.maxFailedAfterHeal} failed requests and the VIP still on the node it moved to (nopreempt); never two holders for longer than one advert interval after the heal.`,
    "",
  ];
}

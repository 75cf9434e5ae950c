import { rollingTrialChecks } from "../conditions";
import type { DrillResults, RollingTrial } from "../types";
import { num, table } from "./format";

function row(t: RollingTrial): string[] {
  const failed = rollingTrialChecks(t).filter((c) => !c.pass).length;
  const run = t.run;
  return [
    t.label,
    t.upExit === undefined ? "–" : `exit ${t.upExit}, ${num(t.upTookS)} s`,
    run ? `${run.load.non2xx + run.load.errors}/${run.load.requests}` : "–",
    run ? `${num(run.ackGapS)} s` : "–",
    (t.restarted ?? []).map((r) => `${r.node} ${r.restarted ? "✓" : "–"}`).join(", ") || "–",
    t.outOrder?.join(" → ") || "–",
    t.pollsWithSeveralOut === undefined ? "–" : `${t.pollsWithSeveralOut}/${t.polls}`,
    run ? `${run.acked} / ${run.stored} / ${run.missing.length}` : "–",
    t.error ? "FAIL (error)" : failed === 0 ? "PASS" : `FAIL (${failed})`,
  ];
}

/** Scenario 11: one row per day-2 change. */
export function rollingSection(r: DrillResults): string[] {
  const s = r.rolling;
  if (!s) return [];
  const head = "## Scenario 11 — day-2 changes through `up` under the write load";
  if (!s.drilled) return [head, "", `${s.note ?? "not drilled"}; no checks.`, ""];
  return [
    head,
    "",
    `Each change is one \`npm run sandbox -- up --no-status …\` (the program under the mock runtime performs what changed, as \`pulumi up\` would) while the write load runs through the LB; the app nodes' readiness is polled every 250 ms. The changes undo each other; the family took ${num(s.durationS / 60)} min.`,
    "",
    table(
      [
        "change",
        "`up`",
        "failed / total",
        "no-ack gap",
        "restarted",
        "out in order",
        "polls with two out",
        "acked / stored / lost",
        "pass",
      ],
      s.trials.map(row),
    ),
    "",
    "Bars: `up` succeeds while the load runs; 0 failed requests; 0 acknowledged messages lost, 0 duplicates; every node of the changed layer restarted, never two at once (rolling).",
    "",
  ];
}

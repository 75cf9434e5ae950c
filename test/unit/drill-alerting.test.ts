import { strict as assert } from "node:assert";
import {
  alertMilestones,
  unexpectedFiring,
  type AlertObservation,
} from "../../scripts/drill/alertTimeline";
import { parseAlertmanagerAlerts, parsePrometheusAlerts } from "../../scripts/drill/parse/alerts";
import { alertingChecks } from "../../scripts/drill/conditions";
import { renderMarkdownReport } from "../../scripts/drill/report/markdown";
import { expectedAlerts } from "../../scripts/drill/scenarios/s7Alerting";
import type { AlertingResult } from "../../scripts/drill/types";

const prom = (alerts: Array<[string, string, string]>) => ({
  status: "success",
  data: {
    alerts: alerts.map(([alertname, node, state]) => ({
      labels: { alertname, node, job: "app", severity: "critical" },
      annotations: {},
      state,
      activeAt: "2026-11-24T21:00:00Z",
      value: "0e+00",
    })),
  },
});
const am = (alerts: Array<[string, string, string]>) =>
  alerts.map(([alertname, node, state]) => ({
    labels: { alertname, node },
    status: { state, silencedBy: [], inhibitedBy: [] },
    startsAt: "2026-11-24T21:00:00Z",
    endsAt: "2026-11-24T21:10:00Z",
    fingerprint: "abc",
    receivers: [{ name: "default" }],
  }));

function obs(
  t: number,
  p: Array<[string, string, string]>,
  a: Array<[string, string, string]>,
): AlertObservation {
  return {
    t,
    prometheus: parsePrometheusAlerts(prom(p)),
    alertmanager: parseAlertmanagerAlerts(am(a)),
  };
}

describe("drill scenario 7: alerts", () => {
  it("parses both APIs and rejects what is not an alert list", () => {
    const p = parsePrometheusAlerts(prom([["LbBackendDown", "webserver2", "firing"]]));
    assert.deepEqual(p[0], {
      name: "LbBackendDown",
      labels: { alertname: "LbBackendDown", node: "webserver2", job: "app", severity: "critical" },
      state: "firing",
    });
    const a = parseAlertmanagerAlerts(am([["TargetDown", "pg2", "active"]]));
    assert.equal(a[0].state, "active");
    assert.throws(
      () => parsePrometheusAlerts({ status: "error" }),
      /Prometheus alerts: not a success/,
    );
    assert.throws(
      () => parseAlertmanagerAlerts({ alerts: [] }),
      /Alertmanager alerts: not an array/,
    );
  });

  it("expects the LB, target and PostgreSQL alerts of the stopped nodes", () => {
    assert.deepEqual(
      expectedAlerts("webserver2", "pg2", "pg1").map(
        (e) => `${e.alert}/${e.node}/${e.alertmanagerState}`,
      ),
      [
        "LbBackendDown/webserver2/active",
        "TargetDown/webserver2/suppressed",
        "PostgresDown/pg2/active",
        "TargetDown/pg2/suppressed",
        "PostgresPrimaryWithoutStreamingStandby/pg1/active",
      ],
    );
  });

  it("times pending, firing, Alertmanager and resolution per alert and node", () => {
    const expected = [
      { alert: "LbBackendDown", node: "webserver2", alertmanagerState: "active" as const },
      { alert: "TargetDown", node: "pg2", alertmanagerState: "suppressed" as const },
    ];
    const polls = [
      obs(-1, [], []),
      obs(10, [["LbBackendDown", "webserver2", "pending"]], []),
      // a TargetDown of another node does not count for pg2
      obs(
        40,
        [
          ["LbBackendDown", "webserver2", "firing"],
          ["TargetDown", "pg1", "firing"],
        ],
        [],
      ),
      obs(
        42,
        [["LbBackendDown", "webserver2", "firing"]],
        [["LbBackendDown", "webserver2", "active"]],
      ),
      obs(
        80,
        [
          ["LbBackendDown", "webserver2", "firing"],
          ["TargetDown", "pg2", "firing"],
        ],
        [
          ["LbBackendDown", "webserver2", "active"],
          // not yet inhibited: not the state expected of a warning next to a critical alert
          ["TargetDown", "pg2", "active"],
        ],
      ),
      obs(
        82,
        [
          ["LbBackendDown", "webserver2", "firing"],
          ["TargetDown", "pg2", "firing"],
        ],
        [
          ["LbBackendDown", "webserver2", "active"],
          ["TargetDown", "pg2", "suppressed"],
        ],
      ),
      // restored at 84: an alert gone before the restore would not count as resolved
      obs(90, [["TargetDown", "pg2", "firing"]], [["TargetDown", "pg2", "active"]]),
      obs(100, [], [["TargetDown", "pg2", "active"]]),
      obs(104, [], []),
    ];
    const m = alertMilestones(expected, polls, 84);
    assert.deepEqual(
      m.map((x) => [
        x.pendingS,
        x.firingS,
        x.alertmanagerS,
        x.resolvedPrometheusS,
        x.resolvedAlertmanagerS,
      ]),
      [
        [10, 40, 42, 90, 90],
        [80, 80, 82, 100, 104],
      ],
    );
    assert.deepEqual(unexpectedFiring(expected, polls), ["TargetDown{node=pg1}"]);
  });

  it("leaves a milestone empty when it never happened", () => {
    const m = alertMilestones(
      [{ alert: "PostgresDown", node: "pg2", alertmanagerState: "active" }],
      [obs(0, [], []), obs(2, [["PostgresDown", "pg2", "pending"]], [])],
      null,
    );
    assert.deepEqual(
      [m[0].pendingS, m[0].firingS, m[0].alertmanagerS, m[0].resolvedPrometheusS],
      [2, null, null, null],
    );
  });
});

describe("drill scenario 7: pass conditions and report", () => {
  const result = (): AlertingResult => ({
    stopped: ["webserver2", "pg2"],
    restoredAtS: 84,
    polls: 60,
    fireBoundS: 240,
    resolveBoundS: 180,
    milestones: [
      {
        alert: "LbBackendDown",
        node: "webserver2",
        alertmanagerState: "active",
        pendingS: 10,
        firingS: 40,
        alertmanagerS: 42,
        resolvedPrometheusS: 90,
        resolvedAlertmanagerS: 92,
      },
    ],
    unexpected: [],
  });

  it("passes when every alert fired, reached Alertmanager and resolved", () => {
    const checks = alertingChecks(result());
    assert.equal(checks.length, 3);
    assert.ok(checks.every((c) => c.pass && c.scenario === 7));
    assert.match(checks[2].detail, /LbBackendDown\{node=webserver2\} 6 s \/ 8 s after the start/);
  });

  it("fails on an alert that never reached Alertmanager or never resolved", () => {
    const r = result();
    r.milestones[0].alertmanagerS = null;
    r.milestones[0].resolvedAlertmanagerS = null;
    assert.deepEqual(
      alertingChecks(r).map((c) => c.pass),
      [true, false, false],
    );
    const late = result();
    late.milestones[0].firingS = 300;
    assert.equal(alertingChecks(late)[0].pass, false);
    assert.equal(
      alertingChecks({ ...result(), milestones: [] }).every((c) => !c.pass),
      true,
    );
  });

  it("renders the scenario-7 table", () => {
    const md = renderMarkdownReport(
      {
        target: "sandbox",
        runId: "r",
        startedAt: "a",
        finishedAt: "b",
        parameters: {},
        alerting: result(),
        errors: {},
      },
      alertingChecks(result()),
    );
    assert.match(md, /## Scenario 7 — alerting/);
    assert.match(
      md,
      /\| LbBackendDown \| webserver2 \| 10 s \| 40 s \| 42 s \(active\) \| 6 s \| 8 s \|/,
    );
  });
});

import { strict as assert } from "assert";
import { rollingChecks, rollingTrialChecks } from "../../scripts/drill/conditions";
import { passingResults, rollingTrial } from "../../scripts/drill/fixtures/results";
import { rollingSection } from "../../scripts/drill/report/rolling";
import {
  longestAllOutMs,
  otherLogLevel,
  outOrder,
  pollsWithSeveralOut,
  rollingChanges,
} from "../../scripts/drill/rolling/plan";

describe("drill scenario 11: day-2 changes through up", () => {
  it("plans app and broker changes, each `up` undoing the one before", () => {
    const changes = rollingChanges({
      logLevel: "info",
      artifactFile: "/tmp/app-v2.tgz",
      groupMinSessionTimeoutMs: 6000,
      sharedBuffersMb: 256,
    });
    assert.deepEqual(
      changes.map((c) => [c.id, c.args.join(" "), c.restarts]),
      [
        ["app-setting", "--set appLogLevel=warn", "app"],
        ["app-artifact", "--artifact app=/tmp/app-v2.tgz", "app"],
        ["app-artifact-back", "", "app"],
        ["kafka-setting", "--set kafkaGroupMinSessionTimeoutMs=5999", "kafka"],
        ["kafka-setting-back", "", "kafka"],
        ["pg-setting", "--set pgSharedBuffersMb=240", "pg"],
        ["pg-setting-back", "", "pg"],
      ],
    );
    assert.equal(otherLogLevel("warn"), "info");
  });

  it("reads the rolling order and any overlap from the readiness polls", () => {
    const polls = [
      { at: 0, ready: [true, true] },
      { at: 250, ready: [false, true] },
      { at: 500, ready: [true, true] },
      { at: 750, ready: [true, false] },
      { at: 1000, ready: [true, true] },
    ];
    assert.deepEqual(outOrder(polls), [0, 1]);
    assert.equal(pollsWithSeveralOut(polls), 0);
    assert.equal(longestAllOutMs(polls), 0);
    const both = [
      ...polls,
      { at: 1250, ready: [false, false] },
      { at: 1500, ready: [true, false] },
    ];
    assert.equal(pollsWithSeveralOut(both), 1);
    assert.equal(longestAllOutMs(both), 250);
  });

  it("passes a clean rolling change and names what a failing one missed", () => {
    assert.ok(rollingTrialChecks(rollingTrial("appLogLevel info → warn")).every((c) => c.pass));
    const failing = rollingTrialChecks(rollingTrial("x", 3)).filter((c) => !c.pass);
    assert.deepEqual(
      failing.map((c) => c.name),
      ["x: 0 failed requests"],
    );
    const together = { ...rollingTrial("y"), pollsWithSeveralOut: 4 };
    assert.match(
      rollingTrialChecks(together).find((c) => !c.pass)?.detail ?? "",
      /4 of 230 polls with more than one node out/,
    );
    const slow = { ...rollingTrial("z"), upTookS: 70 };
    assert.match(
      rollingTrialChecks(slow).find((c) => !c.pass)?.name ?? "",
      /`up` succeeded while the load ran/,
    );
  });

  it("says why a stack target is not drilled", () => {
    const r = {
      drilled: false,
      note: "the changes run through the sandbox's `up`",
      trials: [],
      durationS: 0,
    };
    assert.deepEqual(rollingChecks(r), []);
    assert.match(
      rollingSection({ ...passingResults(), rolling: r }).join("\n"),
      /sandbox's `up`; no checks\./,
    );
  });
});

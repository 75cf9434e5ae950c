import * as assert from "assert";
import { restoreChecks } from "../../scripts/drill/conditions";
import { compareRows, recoveryPointS, rowLinesSql } from "../../scripts/drill/restore/plan";
import type { RestoreResult } from "../../scripts/drill/types";

const row = (uid: string, storedAt: string): string =>
  `${uid}|body|webserver1|2026-11-30 20:19:00+00|webserver2|${storedAt}`;

describe("drill restore (scenario 12): rows and recovery point", () => {
  const source = [
    row("a", "2026-11-30 20:19:00.100+00"),
    row("b", "2026-11-30 20:19:05.000+00"),
    row("c", "2026-11-30 20:19:20.500+00"),
  ];

  it("counts missing and foreign rows; a changed row is foreign", () => {
    assert.deepStrictEqual(compareRows(source, source.slice(0, 2)), {
      source: 3,
      restored: 2,
      missing: 1,
      foreign: 0,
    });
    const changed = [source[0], source[1].replace("body", "other")];
    assert.deepStrictEqual(compareRows(source, changed), {
      source: 3,
      restored: 2,
      missing: 2,
      foreign: 1,
    });
  });

  it("measures the RPO from PostgreSQL's timestamps, 0 when nothing is missing", () => {
    assert.strictEqual(recoveryPointS(source, source), 0);
    assert.strictEqual(recoveryPointS(source, source.slice(0, 2)), 15.5);
    assert.strictEqual(recoveryPointS(source, []), Infinity);
  });

  it("lists rows up to a time only for a timestamp", () => {
    assert.match(
      rowLinesSql("2026-11-30 20:19:06.529039+00"),
      /where stored_at <= '2026-11-30 20:19:06.529039\+00'/,
    );
    assert.throws(
      () => rowLinesSql("now(); drop table messages"),
      /storedAtMost must be a timestamp/,
    );
  });

  it("passes a clean drill and fails a restore past its RPO or with a changed row", () => {
    const ok: RestoreResult = {
      drilled: true,
      repoNode: "monitor",
      archiveTimeoutS: 60,
      backupOk: true,
      backupTookS: 6,
      backupMetricAgeS: 20,
      acked: 900,
      ackedStored: 900,
      failed: 0,
      trials: [
        {
          kind: "latest",
          rtoS: 3,
          rows: { source: 900, restored: 300, missing: 600, foreign: 0 },
          rpoS: 25,
          error: null,
        },
        {
          kind: "time",
          target: "t",
          rtoS: 3,
          rows: { source: 600, restored: 600, missing: 0, foreign: 0 },
          error: null,
        },
      ],
      durationS: 40,
    };
    assert.deepStrictEqual(
      restoreChecks(ok).filter((c) => !c.pass),
      [],
    );
    const late = structuredClone(ok);
    late.trials[0].rpoS = 70;
    late.trials[1].rows = { source: 600, restored: 600, missing: 1, foreign: 1 };
    late.backupMetricAgeS = null;
    assert.deepStrictEqual(
      restoreChecks(late)
        .filter((c) => !c.pass)
        .map((c) => c.name),
      [
        "backup freshness exported to Prometheus",
        "restore to the latest point: no foreign or changed row, RPO within archive_timeout",
        "point-in-time restore: exactly the source's rows up to the target",
      ],
    );
    assert.deepStrictEqual(restoreChecks({ ...ok, drilled: false }), []);
  });
});

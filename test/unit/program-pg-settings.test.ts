import * as assert from "assert";
import type { RawConfig } from "../../components/config";
import { sha256Hex } from "../../components/render/hash";
import { exampleRaw, reveal, runProgram, type ProgramRun } from "./program-harness";

const COMMAND = "command:remote:Command";
const REPLICA_PASS = ["pg1-pg-settings-replica", "pg2-pg-settings-replica"];
const PRIMARY_PASS = ["pg1-pg-settings-primary", "pg2-pg-settings-primary"];
const SETTINGS_STEPS = [
  "pg1-pg-configure",
  "pg1-pg-settings-primary",
  "pg1-pg-settings-replica",
  "pg2-pg-configure",
  "pg2-pg-settings-primary",
  "pg2-pg-settings-replica",
];

/** name -> JSON of the triggers of every Command. */
function triggers(run: ProgramRun): Map<string, string> {
  return new Map(
    run.resources
      .filter((r) => r.type === COMMAND)
      .map((r) => [r.name, JSON.stringify(reveal(r.inputs.triggers))]),
  );
}

function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  assert.deepStrictEqual([...a.keys()].sort(), [...b.keys()].sort(), "the set of steps changed");
  return [...a.keys()].filter((name) => a.get(name) !== b.get(name)).sort();
}

/** The value of `readonly NAME=<single-quoted>` in a rendered payload (renderVars' quoting undone). */
function payloadVar(script: string, name: string): string {
  const m = new RegExp(`^readonly ${name}=((?:'[^']*'|\\\\')+)$`, "m").exec(script);
  assert.ok(m, `${name} not in the payload`);
  return m[1].replace(/'([^']*)'|\\'/g, (_, quoted: string | undefined) => quoted ?? "'");
}

describe("program: rolling PostgreSQL settings (pgParameters)", function () {
  this.timeout(120000);
  let base: ProgramRun;
  const runWith = (changes: RawConfig) => runProgram(exampleRaw(changes));
  before(async () => {
    base = await runWith({});
  });

  it("applies the replica pass node after node, after both nodes' setup steps", () => {
    const [first, second] = REPLICA_PASS.map((n) => base.byName(n));
    assert.ok(second.dependsOn.includes(first.resource), "pg2's replica pass after pg1's");
    assert.ok(
      !first.dependsOn.includes(second.resource),
      "pg1's replica pass does not wait for pg2",
    );
    for (const step of [first, second]) {
      for (const setup of [
        "pg1-pg-configure",
        "pg2-pg-configure",
        "pg1-pg-primary-setup",
        "pg2-pg-standby-setup",
      ]) {
        assert.ok(
          step.dependsOn.includes(base.byName(setup).resource),
          `${step.name} after ${setup}`,
        );
      }
    }
  });

  it("applies the primary pass after every replica-pass step, node after node", () => {
    const replicaPass = REPLICA_PASS.map((n) => base.byName(n).resource);
    for (const name of PRIMARY_PASS) {
      const step = base.byName(name);
      for (const r of replicaPass) assert.ok(step.dependsOn.includes(r), name);
    }
    const [first, second] = PRIMARY_PASS.map((n) => base.byName(n));
    assert.ok(second.dependsOn.includes(first.resource), "pg2's primary pass after pg1's");
  });

  it("runs one payload with the pass, the node and the digest of the rendered settings", () => {
    const conf = payloadVar(
      String(reveal(base.byName("pg1-pg-configure").inputs.stdin)),
      "PG_CONF",
    );
    assert.strictEqual(
      conf,
      payloadVar(String(reveal(base.byName("pg2-pg-configure").inputs.stdin)), "PG_CONF"),
    );
    for (const name of [...REPLICA_PASS, ...PRIMARY_PASS]) {
      const script = String(reveal(base.byName(name).inputs.stdin));
      assert.match(script, /^# payload: pg-settings-apply$/m, name);
      assert.strictEqual(
        payloadVar(script, "PASS"),
        name.endsWith("-replica") ? "replica" : "primary",
      );
      assert.strictEqual(payloadVar(script, "NODE_NAME"), name.split("-")[0]);
      assert.strictEqual(payloadVar(script, "SETTINGS_SHA256"), sha256Hex(conf), name);
      assert.strictEqual(payloadVar(script, "RESTART_TIMEOUT_SECONDS"), "120", name);
      assert.match(script, /^switchover_before_primary_restart\(\) \{$/m, name);
    }
  });

  it("renders pgParameters into pve-ha.conf and re-runs exactly the settings steps", async () => {
    const withParams = await runWith({ pgParameters: { work_mem: "8MB" } });
    assert.deepStrictEqual(changed(triggers(base), triggers(withParams)), SETTINGS_STEPS);
    const conf = payloadVar(
      String(reveal(withParams.byName("pg2-pg-configure").inputs.stdin)),
      "PG_CONF",
    );
    assert.match(conf, /\n# pgParameters[^\n]*\nwork_mem = '8MB'\n$/);

    const otherValue = await runWith({ pgParameters: { work_mem: "16MB" } });
    assert.deepStrictEqual(changed(triggers(withParams), triggers(otherValue)), SETTINGS_STEPS);
  });

  it("leaves the settings steps alone when something else changes", async () => {
    const other = await runWith({ appLogLevel: "debug", lbAlgorithm: "least_conn" });
    const names = changed(triggers(base), triggers(other));
    assert.ok(names.length > 0);
    for (const name of names) assert.ok(!/^pg\d-/.test(name), name);
  });
});

import * as assert from "assert";
import { exampleRaw, reveal, runProgram, type ProgramRun } from "./program-harness";
import type { RawConfig } from "../../components/config";

/** name -> JSON of the Command's triggers, for every Command and copy step. */
async function triggersOf(changes: RawConfig = {}): Promise<Map<string, string>> {
  const run: ProgramRun = await runProgram(exampleRaw(changes));
  const out = new Map<string, string>();
  for (const r of run.resources) {
    if (r.type === "command:remote:Command" || r.type === "command:remote:CopyToRemote") {
      out.set(r.name, JSON.stringify(reveal(r.inputs.triggers)));
    }
  }
  return out;
}

function changedNames(a: Map<string, string>, b: Map<string, string>): string[] {
  assert.deepStrictEqual([...a.keys()].sort(), [...b.keys()].sort(), "the set of steps changed");
  return [...a.keys()].filter((name) => a.get(name) !== b.get(name)).sort();
}

describe("program: triggers", function () {
  this.timeout(120000);
  let base: Map<string, string>;
  before(async () => {
    base = await triggersOf();
  });

  it("gives every step a sha256 trigger, keyed (HMAC) where the script carries a secret", () => {
    assert.ok(base.size > 40);
    for (const [name, trigger] of base) {
      assert.match(trigger, /^\["(sha256:|hmac-sha256:)?[0-9a-f]{64}"\]$/, name);
    }
    const keyed = [...base].filter(([, t]) => t.includes("hmac-sha256:")).map(([n]) => n);
    assert.deepStrictEqual(keyed.sort(), [
      "lb-nginx-frontdoor",
      "lb2-nginx-frontdoor",
      "monitor-pgbackrest-certs",
      "pg1-pg-primary-setup",
      "pg1-pgbackrest-configure",
      "pg2-pg-standby-setup",
      "pg2-pgbackrest-configure",
      "webserver1-app-configure",
      "webserver2-app-configure",
    ]);
  });

  it("changes no trigger when nothing changes", async () => {
    assert.deepStrictEqual(changedNames(base, await triggersOf()), []);
  });

  it("re-runs only the LB configuration when the LB algorithm changes", async () => {
    assert.deepStrictEqual(changedNames(base, await triggersOf({ lbAlgorithm: "least_conn" })), [
      "lb-nginx-configure",
      "lb2-nginx-configure",
    ]);
  });

  it("re-runs only the keepalived configuration (and the certificates naming the VIP) when a VRRP setting changes", async () => {
    const changes = { lbVrrpAdvertIntervalMs: "400", lbVirtualIp: "192.168.100.200" };
    // The self-signed certificates' SAN holds the virtual IP: a new VIP needs new ones.
    assert.deepStrictEqual(changedNames(base, await triggersOf(changes)), [
      "lb-keepalived-configure",
      "lb-nginx-frontdoor",
      "lb2-keepalived-configure",
      "lb2-nginx-frontdoor",
    ]);
    assert.deepStrictEqual(
      changedNames(base, await triggersOf({ lbVrrpAdvertIntervalMs: "400" })),
      ["lb-keepalived-configure", "lb2-keepalived-configure"],
    );
  });

  it("re-runs only the PostgreSQL settings steps when a PostgreSQL setting changes", async () => {
    assert.deepStrictEqual(changedNames(base, await triggersOf({ pgMaxSlotWalKeepSize: "2GB" })), [
      "pg1-pg-configure",
      "pg1-pg-settings-primary",
      "pg1-pg-settings-replica",
      "pg2-pg-configure",
      "pg2-pg-settings-primary",
      "pg2-pg-settings-replica",
    ]);
  });

  it("re-runs only the app configuration when an app setting changes", async () => {
    assert.deepStrictEqual(changedNames(base, await triggersOf({ appLogLevel: "debug" })), [
      "webserver1-app-configure",
      "webserver2-app-configure",
    ]);
  });

  it("re-runs the app and the LB configuration when the Kafka publish deadline changes", async () => {
    const changes = { appKafkaPublishDeadlineMs: "30000" };
    assert.deepStrictEqual(changedNames(base, await triggersOf(changes)), [
      "lb-nginx-configure",
      "lb2-nginx-configure",
      "webserver1-app-configure",
      "webserver2-app-configure",
    ]);
  });
});

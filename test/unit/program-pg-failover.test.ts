/**
 * pgFailover under mocks: auto wires etcd, Patroni and the app database on the leader in order,
 * keeps every password inside secret steps, previews with unknown passwords; manual stays the
 * program it was (explicit "manual" registers exactly what the default does).
 */
import * as assert from "assert";
import type * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { RawConfig } from "../../components/config";
import { PORTS } from "../../components/config/ports";
import {
  EVERY_OPTION_ON,
  exampleRaw,
  reveal,
  runProgram,
  secretInput,
  transitiveDeps,
  type ProgramRun,
  type Recorded,
} from "./program-harness";
import { previewProblems } from "./preview-walk";

const COMMAND = "command:remote:Command";
const MOCK_PASSWORD = /mock-password-/;
const AUTO: RawConfig = { pgFailover: "auto" };
const PG_NODES = ["pg1", "pg2"];
const MEMBERS = ["pg1", "pg2", "pgproxy"];

function dependsOn(run: ProgramRun, r: Recorded, target: pulumi.Resource): boolean {
  return transitiveDeps(run, r).has(target);
}

/** Everything a resource is registered with, in a comparable form (secrets revealed). */
function registrations(run: ProgramRun): string[] {
  const names = new Map(run.resources.map((r) => [r.resource, r.name]));
  return run.resources
    .map((r) =>
      JSON.stringify({
        type: r.type,
        name: r.name,
        parent: r.parent ? names.get(r.parent) : "",
        dependsOn: r.dependsOn.map((d) => names.get(d)).sort(),
        secretOutputs: r.additionalSecretOutputs,
        inputs: reveal(r.inputs),
      }),
    )
    .sort();
}

/** A payload variable's value as the container receives it (renderVars' single quoting undone). */
function payloadVar(run: ProgramRun, step: string, name: string): string {
  const script = String(reveal(run.byName(step).inputs.stdin));
  const m = new RegExp(`^readonly ${name}='((?:[^']|'\\\\'')*)'$`, "m").exec(script);
  assert.ok(m, `${step} has no ${name}`);
  return m[1].replace(/'\\''/g, "'");
}

describe("program: pgFailover manual stays the program it was", function () {
  this.timeout(120000);

  it("registers the same resources with the same inputs whether manual is set or left out", async () => {
    for (const options of [{}, { ...EVERY_OPTION_ON, pgBackupEnabled: "true" }]) {
      const unset = await runProgram(exampleRaw(options));
      const manual = await runProgram(exampleRaw({ ...options, pgFailover: "manual" }));
      assert.deepStrictEqual(registrations(manual), registrations(unset));
      const names = unset.resources.map((r) => r.name);
      assert.ok(names.includes("pg1-pg-primary-setup") && names.includes("pg2-pg-configure"));
      assert.ok(!names.some((n) => /etcd|patroni|pg-app-setup|rewind/.test(n)), names.join());
      assert.match(payloadVar(unset, "pgproxy-haproxy-configure", "HAPROXY_CFG"), /port 8008/);
      assert.doesNotMatch(payloadVar(unset, "pgproxy-install", "PACKAGES"), /etcd/);
      assert.strictEqual((unset.outputs.pgFailover as { mode: string }).mode, "manual");
    }
  });
});

describe("program: pgFailover auto under mocks", function () {
  this.timeout(120000);
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(exampleRaw({ ...AUTO, ...EVERY_OPTION_ON }));
  });

  it("runs etcd on pg1, pg2 and pgproxy, Patroni and the app setup on pg1 and pg2, nothing of manual's", () => {
    const names = run.resources.filter((r) => r.type === COMMAND).map((r) => r.name);
    for (const n of MEMBERS) assert.ok(names.includes(`${n}-etcd-configure`), n);
    for (const n of PG_NODES) {
      assert.ok(names.includes(`${n}-patroni-configure`), n);
      assert.ok(names.includes(`${n}-pg-app-setup`), n);
    }
    const manualSteps = names.filter((n) =>
      /pg-configure|pg-primary-setup|pg-standby-setup|pg-settings-/.test(n),
    );
    assert.deepStrictEqual(manualSteps, []);
    assert.ok(!names.some((n) => /^(monitor|kafka|webserver|lb)\d*-(etcd|patroni)/.test(n)));
  });

  it("installs Patroni and etcd with the roles' packages, and no Debian cluster on the PG nodes", () => {
    for (const n of PG_NODES) {
      const packages = payloadVar(run, `${n}-install`, "PACKAGES");
      for (const pkg of [
        "postgresql-15",
        "patroni",
        "python3-etcd",
        "etcd-server",
        "etcd-client",
      ]) {
        assert.ok(packages.includes(pkg), `${n}: ${pkg}`);
      }
      assert.match(
        payloadVar(run, `${n}-install`, "CREATECLUSTER_CONF"),
        /create_main_cluster = false/,
      );
    }
    assert.match(payloadVar(run, "pgproxy-install", "PACKAGES"), /haproxy etcd-server etcd-client/);
  });

  it("starts Patroni after every etcd member is healthy, each member after its own install", () => {
    for (const m of MEMBERS) {
      const etcd = run.byName(`${m}-etcd-configure`);
      assert.ok(dependsOn(run, etcd, run.byName(`${m}-install`).resource), m);
      for (const n of PG_NODES) {
        assert.ok(
          dependsOn(run, run.byName(`${n}-patroni-configure`), etcd.resource),
          `${n} after ${m}`,
        );
      }
    }
  });

  it("configures HAProxy and the app database after both Patroni, the apps after both", () => {
    const patroni = PG_NODES.map((n) => run.byName(`${n}-patroni-configure`).resource);
    const after = [
      "pgproxy-haproxy-configure",
      "pg1-pg-app-setup",
      "pg2-pg-app-setup",
      "webserver1-app-configure",
      "webserver2-app-configure",
    ];
    for (const name of after) {
      for (const p of patroni) assert.ok(dependsOn(run, run.byName(name), p), name);
    }
    for (const n of ["webserver1", "webserver2"]) {
      const app = run.byName(`${n}-app-configure`);
      assert.ok(dependsOn(run, app, run.byName("pg1-pg-app-setup").resource), n);
      assert.ok(dependsOn(run, app, run.byName("pgproxy-haproxy-configure").resource), n);
    }
    // The firewall closes the nodes last: after etcd and Patroni talk to each other.
    for (const m of MEMBERS) {
      const firewall = run.byName(`${m}-nftables-configure`);
      assert.ok(dependsOn(run, firewall, run.byName(`${m}-etcd-configure`).resource), m);
    }
  });

  it("asks Patroni's REST API from HAProxy, with the check timings of the settings", () => {
    const cfg = payloadVar(run, "pgproxy-haproxy-configure", "HAPROXY_CFG");
    assert.match(cfg, /option httpchk OPTIONS \/primary/);
    assert.match(cfg, /option httpchk OPTIONS \/replica/);
    assert.match(cfg, /default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions/);
    assert.match(
      cfg,
      new RegExp(`server pg1 192\\.168\\.100\\.13:5432 check port ${PORTS.patroniRestApi}`),
    );
    // No role-check agent competes for 8008.
    for (const r of run.resources.filter((x) => x.type === COMMAND)) {
      assert.doesNotMatch(String(reveal(r.inputs.stdin)), /pg-role-check\.socket/, r.name);
    }
  });

  it("renders each node's Patroni for itself, with the etcd members and no slot of manual's", () => {
    for (const n of PG_NODES) {
      const yml = payloadVar(run, `${n}-patroni-configure`, "PATRONI_YML");
      assert.match(yml, new RegExp(`name: "${n}"`));
      assert.match(yml, /192\.168\.100\.15:2379/);
      assert.match(yml, /ttl: 5/);
    }
    const sql = payloadVar(run, "pg1-pg-app-setup", "SETUP_SQL");
    assert.doesNotMatch(sql, /replication_slot/);
    assert.match(sql, /CREATE DATABASE/);
    assert.strictEqual(
      payloadVar(run, "pg2-pg-app-setup", "PATRONI_NODES"),
      "pg1=192.168.100.13 pg2=192.168.100.14",
    );
  });

  it("applies the dynamic configuration on every run: the same object as bootstrap.dcs, on both nodes", () => {
    const texts = PG_NODES.map((n) => payloadVar(run, `${n}-patroni-configure`, "DYNAMIC_CONFIG"));
    assert.strictEqual(texts[0], texts[1]);
    const dynamic = parse(texts[0], { version: "1.1" }) as Record<string, unknown>;
    for (const n of PG_NODES) {
      const yml = parse(payloadVar(run, `${n}-patroni-configure`, "PATRONI_YML"), {
        version: "1.1",
      }) as { bootstrap: { dcs: unknown } };
      assert.deepStrictEqual(yml.bootstrap.dcs, dynamic, n);
      assert.strictEqual(
        payloadVar(run, `${n}-patroni-configure`, "DYNAMIC_PATH"),
        "/etc/patroni/15-main.dynamic.yml",
      );
    }
    assert.strictEqual(dynamic.ttl, 5);
    assert.strictEqual(dynamic.synchronous_mode, false);
    assert.doesNotMatch(texts[0], MOCK_PASSWORD);
  });

  it("protects Patroni's REST API with a generated password, the same on both nodes", () => {
    const pw = run.byName("patroni-rest-password");
    assert.strictEqual(pw.type, "random:index/randomPassword:RandomPassword");
    const auth = PG_NODES.map((n) => {
      const yml = parse(payloadVar(run, `${n}-patroni-configure`, "PATRONI_YML"), {
        version: "1.1",
      }) as { restapi: { authentication: { username: string; password: string } } };
      return yml.restapi.authentication;
    });
    assert.strictEqual(auth[0].username, "patroni");
    assert.match(auth[0].password, MOCK_PASSWORD);
    assert.deepStrictEqual(auth[1], auth[0]);
    // Unlike the PostgreSQL roles' passwords, this one reaches no other step.
    for (const r of run.resources.filter((x) => x.type === COMMAND)) {
      if (/patroni-configure$/.test(r.name)) continue;
      assert.ok(!String(reveal(r.inputs.stdin)).includes(auth[0].password), r.name);
    }
  });

  it("keeps every password inside secret steps: stdin secret, logging off, outputs secret, keyed triggers", () => {
    const carriers = run.resources.filter(
      (r) => r.type === COMMAND && MOCK_PASSWORD.test(String(reveal(r.inputs.stdin) ?? "")),
    );
    const names = carriers.map((c) => c.name);
    for (const n of PG_NODES) {
      assert.ok(names.includes(`${n}-patroni-configure`), n);
      assert.ok(names.includes(`${n}-pg-app-setup`), n);
    }
    assert.ok(!names.some((n) => /etcd|haproxy|install/.test(n)), names.join());
    for (const c of carriers) {
      assert.strictEqual(c.inputs.logging, "none", c.name);
      assert.ok(secretInput(c.inputs.stdin).secret, `${c.name}: stdin is not secret`);
      assert.deepStrictEqual(c.additionalSecretOutputs.slice(0, 2), ["stdout", "stderr"], c.name);
      assert.match(JSON.stringify(reveal(c.inputs.triggers)), /hmac-sha256:/, c.name);
    }
    for (const r of run.resources) {
      if (r.type !== COMMAND) continue;
      const plain = JSON.stringify({
        create: r.inputs.create,
        triggers: reveal(r.inputs.triggers),
      });
      assert.doesNotMatch(plain, MOCK_PASSWORD, r.name);
    }
    for (const [key, value] of Object.entries(run.outputs)) {
      if (run.secretOutputs.has(key)) continue;
      assert.doesNotMatch(JSON.stringify(value), MOCK_PASSWORD, key);
    }
  });

  it("exports the mode, Patroni's and etcd's endpoints, and opens exactly their ports", () => {
    const failover = run.outputs.pgFailover as Record<string, unknown>;
    assert.strictEqual(failover.mode, "auto");
    assert.deepStrictEqual(failover.etcdMembers, MEMBERS);
    assert.strictEqual(failover.writeResumeBoundMs, 8500);
    const exposure = run.outputs.exposure as { node: string; port?: number }[];
    const etcdNodes = exposure.filter((r) => r.port === PORTS.etcdPeer).map((r) => r.node);
    assert.deepStrictEqual(etcdNodes, MEMBERS);
    const nft = payloadVar(run, "pgproxy-nftables-configure", "NFT_RULESET");
    assert.match(nft, /tcp dport 2379/);
    assert.match(nft, /tcp dport 2380/);
  });

  it("scrapes Patroni from the monitor and renders its alerts", () => {
    assert.match(payloadVar(run, "monitor-obs-prometheus", "PROMETHEUS_YML"), /job_name: patroni/);
    assert.match(payloadVar(run, "monitor-obs-prometheus", "RULES_YML"), /alert: PatroniFailover/);
  });

  it("re-runs both patroni-configure steps, and no etcd step, when a dynamic setting changes", async () => {
    const triggers = (r: ProgramRun) =>
      new Map(
        r.resources
          .filter((x) => x.type === COMMAND)
          .map((x) => [x.name, JSON.stringify(reveal(x.inputs.triggers))]),
      );
    const base = triggers(run);
    const again = triggers(await runProgram(exampleRaw({ ...AUTO, ...EVERY_OPTION_ON })));
    for (const n of PG_NODES) {
      assert.strictEqual(again.get(`${n}-patroni-configure`), base.get(`${n}-patroni-configure`));
    }
    const changes: RawConfig[] = [
      { pgSynchronous: "true" },
      { patroniTtlSeconds: "9" },
      { pgParameters: { work_mem: "8MB" } },
    ];
    for (const change of changes) {
      const changed = await runProgram(exampleRaw({ ...AUTO, ...EVERY_OPTION_ON, ...change }));
      const after = triggers(changed);
      for (const n of PG_NODES) {
        const step = `${n}-patroni-configure`;
        assert.notStrictEqual(
          after.get(step),
          base.get(step),
          `${step}: ${JSON.stringify(change)}`,
        );
      }
      for (const m of MEMBERS) {
        const step = `${m}-etcd-configure`;
        assert.strictEqual(after.get(step), base.get(step), `${step}: ${JSON.stringify(change)}`);
      }
      assert.notStrictEqual(
        payloadVar(changed, "pg1-patroni-configure", "DYNAMIC_CONFIG"),
        payloadVar(run, "pg1-patroni-configure", "DYNAMIC_CONFIG"),
      );
    }
  });

  it("previews with the passwords unknown: no secret unknown trigger", async () => {
    const preview = await runProgram(exampleRaw({ ...AUTO, ...EVERY_OPTION_ON }), {
      preview: true,
    });
    assert.deepStrictEqual(await previewProblems(preview), []);
    assert.strictEqual(
      preview.resources.filter((r) => /patroni-configure|pg-app-setup/.test(r.name)).length,
      4,
    );
  });
});

import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
  PLACEHOLDER_SECRETS,
  parseConfig,
  planNodes,
  rawConfigFromStackYaml,
  type RawConfig,
  type StackConfig,
} from "../../components/config";
import { pgFailoverEndpoint } from "../../components/config/endpoints";
import { exposureOptionsOf, exposureRules } from "../../components/config/exposure";
import { etcdEndpoints, failoverPlan } from "../../components/config/failoverPlan";
import { PORTS } from "../../components/config/ports";
import {
  allDebianPackages,
  debianPackages,
  ETCD_PACKAGES,
  PATRONI_PACKAGES,
} from "../../components/render/packages";
import { exampleRaw, FIXTURE_ARTIFACTS, REPO_ROOT } from "./program-harness";

const AUTO = { pgFailover: "auto" };

function configOf(raw: RawConfig): StackConfig {
  const { config, errors } = parseConfig(raw);
  if (!config) throw new Error(errors.join("\n"));
  return config;
}

function threeHostsRaw(changes: RawConfig = {}): RawConfig {
  const text = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.three-hosts.yaml"), "utf8");
  return {
    ...rawConfigFromStackYaml(text),
    ...PLACEHOLDER_SECRETS,
    artifacts: JSON.stringify(FIXTURE_ARTIFACTS),
    ...changes,
  };
}

describe("pgFailover auto: etcd members and the witness's host", () => {
  it("runs Patroni on pg1 and pg2 and etcd on them and on the witness pgproxy", () => {
    const plan = failoverPlan(planNodes(configOf(exampleRaw(AUTO))));
    assert.deepStrictEqual(
      plan.patroniNodes.map((p) => p.name),
      ["pg1", "pg2"],
    );
    assert.deepStrictEqual(
      plan.etcdMembers.map((p) => p.name),
      ["pg1", "pg2", "pgproxy"],
    );
    assert.deepStrictEqual(etcdEndpoints(planNodes(configOf(exampleRaw(AUTO)))), [
      "192.168.100.13:2379",
      "192.168.100.14:2379",
      "192.168.100.15:2379",
    ]);
  });

  it("accepts the three-host example: pg1, pg2 and pgproxy on three hosts", () => {
    const cfg = configOf(threeHostsRaw(AUTO));
    const hosts = failoverPlan(planNodes(cfg)).etcdMembers.map((p) => p.proxmoxNode);
    assert.deepStrictEqual(hosts, ["pve1", "pve2", "pve3"]);
  });

  it("refuses two etcd members on one host, naming pgFailover and the key that moves the witness", () => {
    const pinned = {
      nodes: JSON.stringify({
        monitor: { memoryMb: 3072 },
        pg1: { proxmoxNode: "pve1" },
        pgproxy: { proxmoxNode: "pve1" },
      }),
    };
    const failoverErrors = (raw: RawConfig) =>
      parseConfig(raw).errors.filter((e) => e.startsWith("pgFailover"));
    assert.deepStrictEqual(failoverErrors(threeHostsRaw({ ...AUTO, ...pinned })), [
      'pgFailover: auto: losing host "pve1" takes 2 of the 3 etcd members (pg1, pgproxy): no quorum, so Patroni demotes the primary and nothing takes writes; put the witness pgproxy on a third host with nodes.pgproxy.proxmoxNode (pg1 and pg2 with nodes.<name>.proxmoxNode), or set allowUnsafePlacement: true',
    ]);
    // The same layout with manual failover has no etcd to lose.
    assert.deepStrictEqual(failoverErrors(threeHostsRaw({ ...pinned, pgFailover: "manual" })), []);
    assert.deepStrictEqual(
      parseConfig(threeHostsRaw({ ...AUTO, ...pinned, allowUnsafePlacement: "true" })).errors,
      [],
    );
  });

  it("says a third host is needed when there are only two", () => {
    const twoHosts = JSON.stringify({
      pve1: { sshHost: "pve1.example.internal" },
      pve2: { sshHost: "pve2.example.internal" },
    });
    const errors = parseConfig(
      threeHostsRaw({ ...AUTO, proxmoxHosts: twoHosts, pgBackupRepoNode: "monitor" }),
    ).errors.filter((e) => e.startsWith("pgFailover"));
    assert.strictEqual(errors.length, 1);
    assert.match(errors[0], /takes 2 of the 3 etcd members .*\(it needs 3 Proxmox hosts\)/);
  });

  it("does not check a single host (every member shares it by design)", () => {
    assert.deepStrictEqual(parseConfig(exampleRaw(AUTO)).errors, []);
  });
});

describe("pgFailover auto: packages", () => {
  it("adds Patroni and etcd to the PostgreSQL roles and etcd to the witness's, in auto only", () => {
    const pg = debianPackages("pg-primary", "auto");
    for (const pkg of [...PATRONI_PACKAGES, ...ETCD_PACKAGES]) assert.ok(pg.includes(pkg), pkg);
    assert.deepStrictEqual(debianPackages("haproxy", "auto"), [
      ...debianPackages("haproxy"),
      "etcd-server",
      "etcd-client",
    ]);
    assert.deepStrictEqual(debianPackages("pg-standby", "manual"), debianPackages("pg-standby"));
    assert.ok(!debianPackages("pg-primary").includes("patroni"));
    assert.deepStrictEqual(debianPackages("monitor", "auto"), debianPackages("monitor"));
  });

  it("puts them in the sandbox's offline repository list", () => {
    for (const pkg of ["patroni", "python3-etcd", "etcd-server", "etcd-client"]) {
      assert.ok(allDebianPackages().includes(pkg), pkg);
    }
  });
});

describe("pgFailover auto: exposure", () => {
  const rulesOf = (raw: RawConfig) => {
    const cfg = configOf(raw);
    const plans = planNodes(cfg);
    return exposureRules(plans, exposureOptionsOf(cfg));
  };
  const find = (rules: ReturnType<typeof rulesOf>, node: string, port: number) =>
    rules.filter((r) => r.node === node && r.proto === "tcp" && r.port === port);
  const pg1 = "192.168.100.13";
  const pg2 = "192.168.100.14";
  const pgproxy = "192.168.100.15";
  const monitor = "192.168.100.19";

  it("opens etcd to its members, Patroni's REST API to HAProxy, the other PG node and the monitor", () => {
    const rules = rulesOf(exampleRaw(AUTO));
    const sources = (node: string, port: number) => {
      const found = find(rules, node, port);
      assert.strictEqual(found.length, 1, `${node}:${port}`);
      return [...found[0].sources].sort();
    };
    assert.deepStrictEqual(sources("pg1", PORTS.patroniRestApi), [pg2, pgproxy, monitor].sort());
    assert.deepStrictEqual(sources("pg2", PORTS.patroniRestApi), [pg1, pgproxy, monitor].sort());
    assert.deepStrictEqual(sources("pg1", PORTS.etcdClient), [pg2, pgproxy].sort());
    assert.deepStrictEqual(sources("pgproxy", PORTS.etcdClient), [pg1, pg2].sort());
    assert.deepStrictEqual(sources("pgproxy", PORTS.etcdPeer), [pg1, pg2].sort());
    assert.deepStrictEqual(sources("pg2", PORTS.etcdPeer), [pg1, pgproxy].sort());
    // 8008 has one rule: Patroni's, not the role check's.
    assert.ok(!rules.some((r) => r.purpose === "role check for HAProxy"));
    for (const node of ["monitor", "kafka1", "webserver1", "lb"]) {
      for (const port of [PORTS.etcdClient, PORTS.etcdPeer, PORTS.patroniRestApi]) {
        assert.deepStrictEqual(find(rules, node, port), [], `${node}:${port}`);
      }
    }
  });

  it("leaves manual's rules as they were: the role check on 8008, no etcd", () => {
    const manual = rulesOf(exampleRaw());
    assert.deepStrictEqual(manual, rulesOf(exampleRaw({ pgFailover: "manual" })));
    assert.deepStrictEqual(
      find(manual, "pg1", PORTS.pgRoleCheck).map((r) => r.purpose),
      ["role check for HAProxy"],
    );
    assert.ok(!manual.some((r) => r.port === PORTS.etcdClient || r.port === PORTS.etcdPeer));
    assert.ok(!("pgFailover" in exposureOptionsOf(configOf(exampleRaw()))));
  });
});

describe("pgFailover in the stack outputs", () => {
  it("names the mode, Patroni's REST APIs, the etcd members and the write-resume bound", () => {
    const cfg = configOf(exampleRaw(AUTO));
    assert.deepStrictEqual(pgFailoverEndpoint(cfg, planNodes(cfg)), {
      mode: "auto",
      patroniScope: "pve-ha",
      patroniRestApis: { pg1: "192.168.100.13:8008", pg2: "192.168.100.14:8008" },
      etcdMembers: ["pg1", "pg2", "pgproxy"],
      etcdEndpoints: ["192.168.100.13:2379", "192.168.100.14:2379", "192.168.100.15:2379"],
      synchronous: false,
      writeResumeBoundMs: 8500,
    });
    const manual = configOf(exampleRaw());
    assert.deepStrictEqual(pgFailoverEndpoint(manual, planNodes(manual)).mode, "manual");
    assert.deepStrictEqual(pgFailoverEndpoint(manual, planNodes(manual)).etcdMembers, []);
  });
});

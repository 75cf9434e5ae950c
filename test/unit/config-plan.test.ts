import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
  OBJECT_SETTINGS,
  SCALAR_SETTINGS,
  broadcastAddress,
  highestFreeHost,
  hostAddress,
  inCidr,
  networkAddress,
  parseCidr,
  parseConfig,
  planNodes,
  rawConfigFromStackYaml,
  stackEndpoints,
  type RawConfig,
  type StackConfig,
} from "../../components/config";
import { REPO_ROOT, exampleRaw } from "./program-harness";

function configOf(changes: RawConfig = {}): StackConfig {
  const { config, errors } = parseConfig({ ...exampleRaw(), ...changes });
  if (!config) throw new Error(errors.join("\n"));
  return config;
}

describe("config: planNodes", () => {
  it("derives the paper's layout from the network and the VMID base", () => {
    const plans = planNodes(configOf());
    assert.deepStrictEqual(
      plans.map((p) => [p.name, p.role, p.vmid, p.ip, p.kafkaRoles?.join("+") ?? ""]),
      [
        ["lb", "nginx", 200, "192.168.100.10", ""],
        ["webserver1", "app", 201, "192.168.100.11", ""],
        ["webserver2", "app", 202, "192.168.100.12", ""],
        ["pg1", "pg-primary", 203, "192.168.100.13", ""],
        ["pg2", "pg-standby", 204, "192.168.100.14", ""],
        ["pgproxy", "haproxy", 205, "192.168.100.15", ""],
        ["kafka1", "kafka", 206, "192.168.100.16", "broker+controller"],
        ["kafka2", "kafka", 207, "192.168.100.17", "broker+controller"],
        ["kafka3", "kafka", 208, "192.168.100.18", "controller"],
        ["monitor", "monitor", 209, "192.168.100.19", ""],
        ["lb2", "nginx", 210, "192.168.100.20", ""],
      ],
    );
    for (const p of plans) {
      assert.strictEqual(p.cidrPrefix, 24);
      assert.strictEqual(p.gateway, "192.168.100.1");
      assert.strictEqual(p.proxmoxNode, "pve");
    }
  });

  it("applies per-node overrides and sizes", () => {
    const plans = planNodes(
      configOf({
        proxmoxHosts: { pve: { sshHost: "pve1.example" }, pve2: { sshHost: "pve2.example" } },
        allowUnsafePlacement: "true",
        nodes: { pg1: { cores: 4, proxmoxNode: "pve2" } },
      }),
    );
    const pg1 = plans.find((p) => p.name === "pg1");
    assert.strictEqual(pg1?.cores, 4);
    assert.strictEqual(pg1?.proxmoxNode, "pve2");
    // `nodes` replaces the example stack's overrides (monitor: 3072) as a whole.
    assert.strictEqual(plans.find((p) => p.name === "monitor")?.memoryMb, 2048);
    assert.strictEqual(plans.find((p) => p.name === "kafka3")?.memoryMb, 1024);
  });

  it("scales app replicas and Kafka roles", () => {
    const plans = planNodes(
      configOf({ appReplicas: "3", kafkaBrokers: "4", kafkaControllerVoters: "3" }),
    );
    assert.deepStrictEqual(
      plans.filter((p) => p.role === "app").map((p) => p.name),
      ["webserver1", "webserver2", "webserver3"],
    );
    assert.deepStrictEqual(
      plans.filter((p) => p.role === "kafka").map((p) => `${p.kafkaNodeId}:${p.kafkaRoles}`),
      ["1:broker,controller", "2:broker,controller", "3:broker,controller", "4:broker"],
    );
  });
});

describe("config: the LB pair", () => {
  const layout = (cfg: StackConfig) => planNodes(cfg).map((p) => [p.name, p.vmid, p.ip]);

  it("appends lb2 after every other node: the others keep their VMIDs and addresses", () => {
    const one = layout(configOf({ lbReplicas: "1" }));
    const two = layout(configOf({ lbReplicas: "2" }));
    assert.deepStrictEqual(one.map((n) => n[0]).includes("lb2"), false);
    assert.deepStrictEqual(two.slice(0, one.length), one);
    assert.deepStrictEqual(two.slice(one.length), [["lb2", 210, "192.168.100.20"]]);
    const lb2 = planNodes(configOf()).find((p) => p.name === "lb2");
    assert.strictEqual(lb2?.role, "nginx");
    assert.strictEqual(lb2?.startOrder, planNodes(configOf())[0].startOrder);
  });

  it("derives the virtual IP: the highest host address that is no node's and not the gateway", () => {
    assert.strictEqual(configOf().lb.virtualIp, "192.168.100.254");
    // still there with more nodes (they take addresses from the bottom)
    assert.strictEqual(configOf({ appReplicas: "6" }).lb.virtualIp, "192.168.100.254");
    assert.strictEqual(
      configOf({ nodes: { monitor: { ip: "192.168.100.254" } } }).lb.virtualIp,
      "192.168.100.253",
    );
    assert.strictEqual(
      configOf({ networkGateway: "192.168.100.254" }).lb.virtualIp,
      "192.168.100.253",
    );
    assert.strictEqual(
      configOf({ networkCidr: "10.9.0.0/28", networkGateway: "10.9.0.1", networkFirstHost: "2" }).lb
        .virtualIp,
      "10.9.0.14",
    );
    assert.strictEqual(configOf({ lbVirtualIp: "192.168.100.99" }).lb.virtualIp, "192.168.100.99");
  });

  it("puts lbUrl and adminUrl at the virtual IP with two LBs, at the LB with one", () => {
    const two = configOf();
    const e2 = stackEndpoints(two, planNodes(two));
    assert.strictEqual(e2.lbUrl, "https://192.168.100.254/");
    assert.strictEqual(e2.adminUrl, "https://192.168.100.254/admin");
    assert.strictEqual(e2.lbVirtualIp, "192.168.100.254");
    assert.deepStrictEqual(e2.lbNodes, ["lb", "lb2"]);
    assert.strictEqual(e2.settings.lbReplicas, 2);
    assert.strictEqual(e2.settings.lbVrrpAdvertIntervalMs, 500);
    const one = configOf({ lbReplicas: "1" });
    const e1 = stackEndpoints(one, planNodes(one));
    assert.strictEqual(e1.lbUrl, "https://192.168.100.10/");
    assert.strictEqual(e1.adminUrl, "https://192.168.100.10/admin");
    assert.strictEqual(e1.lbVirtualIp, "");
    assert.deepStrictEqual(e1.lbNodes, ["lb"]);
    assert.strictEqual(e1.settings.lbReplicas, 1);
  });

  it("puts lb2 on another host than lb in the three-host example", () => {
    const text = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.three-hosts.yaml"), "utf8");
    const raw = { ...exampleRaw(), ...rawConfigFromStackYaml(text) };
    const { config, errors } = parseConfig(raw);
    assert.deepStrictEqual(errors, []);
    const plans = planNodes(config!);
    const hostOf = (name: string) => plans.find((p) => p.name === name)?.proxmoxNode;
    assert.strictEqual(hostOf("lb"), "pve1");
    assert.strictEqual(hostOf("lb2"), "pve2");
    // The backup repository on the host without a PostgreSQL node; the monitor (with pg1) refused.
    assert.strictEqual(hostOf(config!.backup.repoNode), "pve3");
    const onPgHost = parseConfig({ ...raw, pgBackupRepoNode: "monitor" });
    assert.deepStrictEqual(onPgHost.errors, [
      'pgBackupRepoNode: is on host pve1 with pg1: losing that host would take a PostgreSQL node and the backups at once; pick a node on another host (webserver2, pgproxy, kafka3) or set allowUnsafePlacement (got "monitor")',
    ]);
  });
});

describe("config: network helpers", () => {
  it("parses CIDRs and addresses hosts", () => {
    const cidr = parseCidr("10.20.0.0/16");
    assert.ok(cidr);
    assert.strictEqual(hostAddress(cidr, 258), "10.20.1.2");
    assert.ok(inCidr("10.20.255.254", cidr));
    assert.ok(!inCidr("10.20.255.255", cidr), "broadcast address");
    assert.ok(!inCidr("10.20.0.0", cidr), "network address");
    assert.strictEqual(parseCidr("10.20.0.1/16"), undefined);
    assert.strictEqual(parseCidr("300.1.1.0/24"), undefined);
  });

  it("names the network and broadcast addresses and finds the highest free host", () => {
    const cidr = parseCidr("10.20.0.0/29");
    assert.ok(cidr);
    assert.strictEqual(networkAddress(cidr), "10.20.0.0");
    assert.strictEqual(broadcastAddress(cidr), "10.20.0.7");
    assert.strictEqual(highestFreeHost(cidr, new Set()), "10.20.0.6");
    assert.strictEqual(highestFreeHost(cidr, new Set(["10.20.0.6", "10.20.0.5"])), "10.20.0.4");
    const all = new Set([1, 2, 3, 4, 5, 6].map((h) => hostAddress(cidr, h)));
    assert.strictEqual(highestFreeHost(cidr, all), undefined);
  });
});

describe("config: endpoints", () => {
  it("lists every endpoint the drills read", () => {
    const cfg = configOf();
    const e = stackEndpoints(cfg, planNodes(cfg));
    assert.strictEqual(e.lbUrl, "https://192.168.100.254/");
    assert.strictEqual(e.adminUrl, "https://192.168.100.254/admin");
    assert.strictEqual(e.haproxyReadWrite, "192.168.100.15:5000");
    assert.strictEqual(e.haproxyReadOnly, "192.168.100.15:5001");
    assert.strictEqual(e.haproxyStatsUrl, "http://192.168.100.15:8404/stats");
    assert.strictEqual(e.pgPrimary, "192.168.100.13:5432");
    assert.strictEqual(e.pgStandby, "192.168.100.14:5432");
    assert.strictEqual(e.kafkaBootstrapServers, "192.168.100.16:9092,192.168.100.17:9092");
    assert.strictEqual(e.prometheusUrl, "http://192.168.100.19:9090");
    assert.strictEqual(e.proxmoxHost, "pve.example.internal");
    assert.deepStrictEqual(e.nodes.kafka3, {
      vmid: 208,
      ip: "192.168.100.18",
      role: "kafka",
      proxmoxNode: "pve",
      kafkaRoles: ["controller"],
    });
  });
});

describe("config: Pulumi.yaml", () => {
  const project = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config: Record<
      string,
      { type: string; description: string; default?: unknown; secret?: boolean }
    >;
  };

  it("declares every scalar setting with type, description and default as the code does", () => {
    assert.strictEqual(project.name, "pve-ha-stack");
    assert.deepStrictEqual(Object.keys(project.config).sort(), Object.keys(SCALAR_SETTINGS).sort());
    for (const [key, setting] of Object.entries(SCALAR_SETTINGS)) {
      const declared = project.config[key];
      assert.strictEqual(declared.type, setting.type, key);
      assert.strictEqual(declared.description, setting.description, key);
      assert.strictEqual(declared.default, "default" in setting ? setting.default : undefined, key);
      assert.strictEqual(declared.secret, "secret" in setting ? setting.secret : undefined, key);
    }
  });

  it("names every object setting in its header comment and the README", () => {
    const text = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8");
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    for (const key of Object.keys(OBJECT_SETTINGS)) {
      assert.match(text, new RegExp(`^#\\s+${key}:`, "m"), `Pulumi.yaml lacks ${key}`);
      assert.ok(readme.includes(`- \`${key}\`:`), `README lacks ${key}`);
    }
  });

  it("is documented in the README's configuration reference", () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    for (const key of Object.keys(SCALAR_SETTINGS)) {
      assert.ok(readme.includes(`| \`${key}\``), `README lacks ${key}`);
    }
  });

  it("keeps secrets out of the example stack file in clear", () => {
    const text = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8");
    const stack = parse(text) as { config: Record<string, unknown> };
    for (const key of ["proxmoxve:apiToken", "pve-ha-stack:proxmoxSshPrivateKey"]) {
      const value = stack.config[key];
      assert.ok(
        value === undefined || (typeof value === "object" && value !== null && "secure" in value),
        `${key} is in clear`,
      );
    }
  });
});

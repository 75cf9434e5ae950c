import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
  PLACEHOLDER_SECRETS,
  parseConfig,
  rawConfigFromStackYaml,
  type RawConfig,
} from "../../components/config";
import { placeNodes } from "../../components/config/hosts";
import {
  FIXTURE_ARTIFACTS,
  REPO_ROOT,
  exampleRaw,
  reveal,
  runProgram,
  type ProgramRun,
} from "./program-harness";

const CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy";
const COMMAND = "command:remote:Command";

/** The committed three-host example with placeholder secrets and fixture artifacts. */
function threeHostsRaw(changes: RawConfig = {}): RawConfig {
  const text = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.three-hosts.yaml"), "utf8");
  return {
    ...rawConfigFromStackYaml(text),
    ...PLACEHOLDER_SECRETS,
    artifacts: JSON.stringify(FIXTURE_ARTIFACTS),
    ...changes,
  };
}

function errorsOf(raw: RawConfig): string[] {
  return parseConfig(raw).errors;
}

describe("placement over several Proxmox hosts", () => {
  it("spreads each group over the hosts and puts singletons on the least used host", () => {
    const nodes = [
      { name: "lb", role: "nginx" as const },
      { name: "webserver1", role: "app" as const },
      { name: "webserver2", role: "app" as const },
      { name: "pg1", role: "pg-primary" as const },
      { name: "pg2", role: "pg-standby" as const },
      { name: "pgproxy", role: "haproxy" as const },
      { name: "kafka1", role: "kafka" as const },
      { name: "kafka2", role: "kafka" as const },
      { name: "kafka3", role: "kafka" as const },
      { name: "monitor", role: "monitor" as const },
    ];
    assert.deepStrictEqual(placeNodes(nodes, ["a", "b", "c"]), [
      "a",
      "b",
      "c",
      "a",
      "b",
      "c",
      "a",
      "b",
      "c",
      "a",
    ]);
    // A pinned node counts first: pg2 pinned to "a" sends pg1 elsewhere.
    const pinned = nodes.map((n) => (n.name === "pg2" ? { ...n, pinned: "a" } : n));
    const placed = placeNodes(pinned, ["a", "b", "c"]);
    assert.strictEqual(placed[4], "a");
    assert.notStrictEqual(placed[3], "a");
    assert.deepStrictEqual(
      placeNodes(nodes, ["only"]),
      nodes.map(() => "only"),
    );
  });

  it("accepts the three-host example", () => {
    assert.deepStrictEqual(errorsOf(threeHostsRaw()), []);
  });

  it("refuses both PostgreSQL nodes on one host, naming the nodes and the host", () => {
    const errors = errorsOf(
      threeHostsRaw({
        nodes: JSON.stringify({ pg1: { proxmoxNode: "pve2" }, pg2: { proxmoxNode: "pve2" } }),
      }),
    );
    assert.deepStrictEqual(errors, [
      'placement: losing host "pve2" takes both PostgreSQL nodes (pg1, pg2); move nodes with nodes.<name>.proxmoxNode, add a host, or set allowUnsafePlacement: true',
      // pgFailover auto (the default): the two etcd members on the PostgreSQL nodes go with them.
      'pgFailover: auto: losing host "pve2" takes 2 of the 3 etcd members (pg1, pg2): no quorum, so Patroni demotes the primary and nothing takes writes; put the witness pgproxy on a third host with nodes.pgproxy.proxmoxNode (pg1 and pg2 with nodes.<name>.proxmoxNode), or set allowUnsafePlacement: true',
    ]);
  });

  it("refuses every app node on one host and a majority of the KRaft voters on one host", () => {
    const errors = errorsOf(
      threeHostsRaw({
        nodes: JSON.stringify({
          webserver1: { proxmoxNode: "pve3" },
          webserver2: { proxmoxNode: "pve3" },
          kafka1: { proxmoxNode: "pve3" },
          kafka2: { proxmoxNode: "pve3" },
        }),
      }),
    );
    assert.deepStrictEqual(errors, [
      'placement: losing host "pve3" takes every app node (webserver1, webserver2) and a majority of the KRaft controller voters (kafka1, kafka2 of 3); move nodes with nodes.<name>.proxmoxNode, add a host, or set allowUnsafePlacement: true',
      'pgFailover: auto: losing host "pve2" takes 2 of the 3 etcd members (pg1, pgproxy): no quorum, so Patroni demotes the primary and nothing takes writes; put the witness pgproxy on a third host with nodes.pgproxy.proxmoxNode (pg1 and pg2 with nodes.<name>.proxmoxNode), or set allowUnsafePlacement: true',
      // The moved nodes push pgproxy, the backup repository, onto pg1's host.
      'pgBackupRepoNode: is on host pve2 with pg1: losing that host would take a PostgreSQL node and the backups at once; pick a node on another host (webserver1, webserver2, kafka1, kafka2) or set allowUnsafePlacement (got "pgproxy")',
    ]);
  });

  it("refuses two hosts for three KRaft voters unless allowUnsafePlacement is set", () => {
    const two = {
      proxmoxHosts: JSON.stringify({
        pve1: { sshHost: "a.example" },
        pve2: { sshHost: "b.example" },
      }),
    };
    assert.match(
      errorsOf(threeHostsRaw(two)).join("\n"),
      /losing host "pve1" takes a majority of the KRaft controller voters \(kafka1, kafka3 of 3\)/,
    );
    assert.deepStrictEqual(errorsOf(threeHostsRaw({ ...two, allowUnsafePlacement: "true" })), []);
  });

  it("refuses a node pinned to a host that is not configured, and a bad host entry", () => {
    assert.deepStrictEqual(
      errorsOf(exampleRaw({ nodes: JSON.stringify({ pg2: { proxmoxNode: "pve9" } }) })),
      ['nodes.pg2.proxmoxNode: must name a host of proxmoxHosts (known: pve) (got "pve9")'],
    );
    assert.deepStrictEqual(
      errorsOf(
        threeHostsRaw({
          proxmoxHosts: JSON.stringify({ pve1: { sshHost: "bad host", sshPort: 0, user: "x" } }),
          allowUnsafePlacement: "true",
        }),
      ),
      [
        'proxmoxHosts.pve1.user: unknown field (known: sshHost, sshPort, sshUser, sshPrivateKey) (got "user")',
        'proxmoxHosts.pve1.sshHost: must be a host name or address (got "bad host")',
        "proxmoxHosts.pve1.sshPort: must be an integer from 1 to 65535 (got 0)",
      ],
    );
  });
});

describe("program: the three-host example under mocks", function () {
  this.timeout(120000);
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(threeHostsRaw());
  });

  it("creates each container on its host, from that host's template", () => {
    const containers = run.resources.filter((r) => r.type === CONTAINER);
    const hostOf = Object.fromEntries(containers.map((c) => [c.name, c.inputs.nodeName]));
    assert.deepStrictEqual(hostOf, {
      lb: "pve1",
      webserver1: "pve2",
      webserver2: "pve3",
      pg1: "pve1",
      pg2: "pve2",
      pgproxy: "pve3",
      kafka1: "pve1",
      kafka2: "pve2",
      kafka3: "pve3",
      monitor: "pve1",
      lb2: "pve2",
    });
    const templates = run.resources.filter((r) => r.type === "proxmoxve:download/file:File");
    assert.deepStrictEqual(templates.map((t) => t.inputs.nodeName).sort(), [
      "pve1",
      "pve2",
      "pve3",
    ]);
    for (const c of containers) {
      const os = c.inputs.operatingSystem as { templateFileId: string };
      assert.ok(os.templateFileId.length > 0, c.name);
    }
  });

  it("sends every command for a container to the host that holds it", () => {
    const sshHostOf: Record<string, string> = {
      pve1: "pve1.example.internal",
      pve2: "pve2.example.internal",
      pve3: "pve3.example.internal",
    };
    const containers = run.resources.filter((r) => r.type === CONTAINER);
    const vmidHost = new Map(
      containers.map((c) => [Number(c.inputs.vmId), String(c.inputs.nodeName)]),
    );
    let checked = 0;
    for (const cmd of run.resources.filter((r) => r.type === COMMAND)) {
      const m = /pct (?:exec|push) (\d+)/.exec(String(cmd.inputs.create));
      const connection = reveal(cmd.inputs.connection) as { host: string };
      if (cmd.name.startsWith("host-staging-dir-")) {
        assert.strictEqual(connection.host, sshHostOf[cmd.name.slice("host-staging-dir-".length)]);
        continue;
      }
      assert.ok(m, `${cmd.name}: no pct command`);
      assert.strictEqual(
        connection.host,
        sshHostOf[vmidHost.get(Number(m[1])) as string],
        cmd.name,
      );
      checked++;
    }
    assert.ok(checked > 40);
    assert.deepStrictEqual(
      run.resources
        .filter((r) => r.name.startsWith("host-staging-dir-"))
        .map((r) => r.name)
        .sort(),
      ["host-staging-dir-pve1", "host-staging-dir-pve2", "host-staging-dir-pve3"],
    );
  });

  it("exports each node's host and every host's SSH access", () => {
    const nodes = run.outputs.nodes as Record<string, { proxmoxNode: string }>;
    assert.strictEqual(nodes.pg1.proxmoxNode, "pve1");
    assert.strictEqual(nodes.pg2.proxmoxNode, "pve2");
    assert.deepStrictEqual(run.outputs.proxmoxHosts, {
      pve1: { sshHost: "pve1.example.internal", sshPort: 22, sshUser: "root" },
      pve2: { sshHost: "pve2.example.internal", sshPort: 22, sshUser: "root" },
      pve3: { sshHost: "pve3.example.internal", sshPort: 22, sshUser: "root" },
    });
    assert.strictEqual(run.outputs.proxmoxHost, "pve1.example.internal");
  });

  it("registers Proxmox HA resources only when proxmoxHaEnabled is set", async () => {
    assert.ok(!run.resources.some((r) => r.type === "proxmoxve:index/haresource:Haresource"));
    const ha = await runProgram(threeHostsRaw({ proxmoxHaEnabled: "true" }));
    const resources = ha.resources.filter(
      (r) => r.type === "proxmoxve:index/haresource:Haresource",
    );
    assert.strictEqual(resources.length, 11);
    assert.deepStrictEqual(ha.byName("pg1-ha").inputs, {
      resourceId: "ct:203",
      state: "started",
      comment: "pve-ha-stack pg1",
      maxRestart: 1,
      maxRelocate: 1,
    });
  });
});

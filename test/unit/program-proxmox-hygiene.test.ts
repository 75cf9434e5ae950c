import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
  PLACEHOLDER_SECRETS,
  PORTS,
  rawConfigFromStackYaml,
  type RawConfig,
} from "../../components/config";
import { LXC_NODE_TYPE } from "../../components/proxmoxLxcNode";
import { STACK_TYPE } from "../../components/stack";
import {
  FIXTURE_ARTIFACTS,
  REPO_ROOT,
  exampleRaw,
  reveal,
  runProgram,
  type ProgramRun,
  type Recorded,
} from "./program-harness";

const CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy";
const FW_OPTIONS = "proxmoxve:firewall/optionsLegacy:OptionsLegacy";
const FW_RULES = "proxmoxve:firewall/rulesLegacy:RulesLegacy";
const BACKUP_JOB = "proxmoxve:backup/job:Job";
const COMMAND = "command:remote:Command";
const KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDtOiBHQgYmYVD2bRWeKhc2ijImI5SUSZIoMUX9Dd7ea ops@example",
  "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMKdQmMupER3YY2sAmGuvZDD7WrrhS2N2BLgFU07RKVlVFZKXzHafRPhp9HNVG263n+VzVtudAN1V5Bt5dXFytE= backup@example",
];

interface ProxmoxRule {
  type: string;
  action: string;
  proto: string;
  dport?: string;
  source: string;
  comment: string;
}

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

function ofType(run: ProgramRun, type: string): Recorded[] {
  return run.resources.filter((r) => r.type === type);
}

function parentOf(run: ProgramRun, r: Recorded): Recorded | undefined {
  return run.resources.find((x) => x.resource === r.parent);
}

function nicsOf(c: Recorded) {
  return c.inputs.networkInterfaces as { name: string; bridge: string; firewall?: boolean }[];
}

describe("program: Proxmox hygiene (tags, root keys, firewall, vzdump) under mocks", function () {
  this.timeout(180000);
  let plain: ProgramRun;
  before(async () => {
    plain = await runProgram(exampleRaw());
  });

  it("tags every container with the stack and its role", () => {
    const nodes = plain.outputs.nodes as Record<string, { role: string }>;
    const containers = ofType(plain, CONTAINER);
    assert.strictEqual(containers.length, Object.keys(nodes).length);
    for (const c of containers) {
      assert.deepStrictEqual(c.inputs.tags, ["pve-ha-stack", nodes[c.name].role], c.name);
    }
  });

  it("by default gives no root keys, no firewall and no vzdump job", () => {
    for (const c of ofType(plain, CONTAINER)) {
      const init = c.inputs.initialization as Record<string, unknown>;
      assert.ok(!("userAccount" in init), c.name);
      assert.deepStrictEqual(nicsOf(c), [{ name: "eth0", bridge: "vmbr0" }], c.name);
    }
    for (const type of [FW_OPTIONS, FW_RULES, BACKUP_JOB]) {
      assert.deepStrictEqual(ofType(plain, type), [], type);
    }
  });

  it("gives every container root's keys at creation and ignores later changes of them", async () => {
    const run = await runProgram(
      exampleRaw({ containerSshPublicKeys: `${KEYS[0]}\n\n${KEYS[1]}\n`, protectData: "true" }),
    );
    for (const c of ofType(run, CONTAINER)) {
      const init = reveal(c.inputs.initialization) as { userAccount?: { keys: string[] } };
      assert.deepStrictEqual(init.userAccount, { keys: KEYS }, c.name);
      // The provider replaces a container whose keys change: the program never sends a change.
      assert.ok(c.opts.ignoreChanges?.includes("initialization.userAccount"), c.name);
    }
  });

  describe("with proxmoxFirewall on three hosts", () => {
    let run: ProgramRun;
    const ipOf = new Map<string, string>();
    const rulesOf = (node: string): ProxmoxRule[] =>
      reveal(run.byName(`${node}-firewall-rules`).inputs.rules) as ProxmoxRule[];
    before(async () => {
      run = await runProgram(threeHostsRaw({ proxmoxFirewall: "true" }));
      const nodes = run.outputs.nodes as Record<string, { ip: string }>;
      for (const [name, n] of Object.entries(nodes)) ipOf.set(name, n.ip);
    });

    it("gives each container one firewall options and one rule set, on its own host", () => {
      const containers = ofType(run, CONTAINER);
      assert.strictEqual(ofType(run, FW_OPTIONS).length, containers.length);
      assert.strictEqual(ofType(run, FW_RULES).length, containers.length);
      for (const c of containers) {
        const target = { nodeName: c.inputs.nodeName, containerId: c.inputs.vmId };
        const options = run.byName(`${c.name}-firewall-options`);
        const rules = run.byName(`${c.name}-firewall-rules`);
        assert.deepStrictEqual(options.inputs, {
          ...target,
          enabled: true,
          inputPolicy: "DROP",
          outputPolicy: "ACCEPT",
          ipfilter: false,
          dhcp: false,
        });
        assert.deepStrictEqual(
          { nodeName: rules.inputs.nodeName, containerId: rules.inputs.containerId },
          target,
        );
        for (const r of [options, rules]) {
          const parent = parentOf(run, r);
          assert.strictEqual(parent?.type, LXC_NODE_TYPE, r.name);
          assert.strictEqual(parent?.name, c.name, r.name);
          assert.ok(r.dependsOn.includes(c.resource), r.name);
        }
        // The input policy DROP comes only after the rules exist.
        assert.ok(options.dependsOn.includes(rules.resource), c.name);
        assert.deepStrictEqual(nicsOf(c), [{ name: "eth0", bridge: "vmbr0", firewall: true }]);
      }
      assert.deepStrictEqual(
        new Set(ofType(run, FW_RULES).map((r) => r.inputs.nodeName)),
        new Set(["pve1", "pve2", "pve3"]),
      );
    });

    it("lets only HAProxy and the other PostgreSQL node reach PostgreSQL", () => {
      for (const [pg, other] of [
        ["pg1", "pg2"],
        ["pg2", "pg1"],
      ]) {
        const pgRules = rulesOf(pg).filter((r) => r.dport === String(PORTS.postgres));
        assert.deepStrictEqual(pgRules.map((r) => r.source).sort(), [
          ipOf.get(other),
          ipOf.get("pgproxy"),
        ]);
        for (const r of pgRules) {
          assert.deepStrictEqual([r.type, r.action, r.proto], ["in", "ACCEPT", "tcp"]);
          assert.match(r.comment, /^pve-ha-stack: /);
        }
      }
    });

    it("allows every address:port of another node that a node's rendered steps name", () => {
      const nodeOfVmid = new Map<string, string>();
      for (const c of ofType(run, CONTAINER)) nodeOfVmid.set(String(c.inputs.vmId), c.name);
      const nodeOfIp = new Map([...ipOf].map(([name, ip]) => [ip, name]));
      const seen = new Set<string>();
      for (const cmd of ofType(run, COMMAND)) {
        const vmid = /pct (?:exec|push) (\d+)/.exec(String(cmd.inputs.create))?.[1];
        const client = vmid ? nodeOfVmid.get(vmid) : undefined;
        if (!client) continue;
        const stdin = String(reveal(cmd.inputs.stdin) ?? "");
        for (const m of stdin.matchAll(/\b(\d+\.\d+\.\d+\.\d+):(\d+)\b/g)) {
          const server = nodeOfIp.get(m[1]);
          if (!server || server === client) continue;
          const allowed = rulesOf(server).some(
            (r) => r.proto === "tcp" && r.dport === m[2] && r.source === ipOf.get(client),
          );
          assert.ok(allowed, `${cmd.name}: ${client} -> ${server}:${m[2]} is not allowed`);
          seen.add(`${client}->${server}:${m[2]}`);
        }
      }
      // nginx -> apps, apps -> brokers, HAProxy -> PostgreSQL, monitor -> every exporter, …
      for (const edge of [
        `lb->webserver1:${PORTS.app}`,
        `webserver2->kafka1:${PORTS.kafka}`,
        `pgproxy->pg2:${PORTS.postgres}`,
        `monitor->kafka3:${PORTS.jmxAgent}`,
        `kafka2->kafka3:${PORTS.kafkaController}`,
      ]) {
        assert.ok(seen.has(edge), `${edge} not found in any rendered step`);
      }
    });
  });

  it("with proxmoxBackupSchedule, registers one vzdump job of every container under the stack", async () => {
    const run = await runProgram(
      threeHostsRaw({
        proxmoxBackupSchedule: "02:30",
        proxmoxBackupStorage: "backup-nfs",
        proxmoxBackupKeepLast: "3",
      }),
    );
    const jobs = ofType(run, BACKUP_JOB);
    assert.strictEqual(jobs.length, 1);
    const vmids = ofType(run, CONTAINER)
      .map((c) => Number(c.inputs.vmId))
      .sort((a, b) => a - b)
      .map(String);
    assert.deepStrictEqual(jobs[0].inputs, {
      resourceId: "pve-ha-stack-dev",
      schedule: "02:30",
      storage: "backup-nfs",
      vmids,
      mode: "snapshot",
      compress: "zstd",
      pruneBackups: { "keep-last": "3" },
      enabled: true,
    });
    assert.strictEqual(vmids.length, 11);
    assert.strictEqual(parentOf(run, jobs[0])?.type, STACK_TYPE);
    const containers = new Set(ofType(run, CONTAINER).map((c) => c.resource));
    assert.strictEqual(jobs[0].dependsOn.filter((d) => containers.has(d)).length, vmids.length);
  });
});

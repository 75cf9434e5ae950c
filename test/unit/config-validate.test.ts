import * as assert from "assert";
import {
  formatConfigErrors,
  loadConfig,
  validateConfig,
  type RawConfig,
} from "../../components/config";
import { exampleRaw, FIXTURE_ARTIFACTS } from "./program-harness";
import * as pulumi from "@pulumi/pulumi";
import { runtimeConfigOf } from "../../components/config";

/** The example stack with some settings changed (undefined removes a setting). */
function withSettings(changes: RawConfig): RawConfig {
  const raw = { ...exampleRaw(), ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete raw[key];
  return raw;
}

const BAD_CONFIGS: { what: string; changes: RawConfig; errors: string[] }[] = [
  {
    what: "duplicate VMIDs",
    changes: { nodes: { pg2: { vmid: 203 } } },
    errors: ["nodes.pg2.vmid: duplicate VMID, also used by pg1 (got 203)"],
  },
  {
    what: "duplicate IPs",
    changes: { nodes: { pg2: { ip: "192.168.100.13" } } },
    errors: ['nodes.pg2.ip: duplicate IP, also used by pg1 (got "192.168.100.13")'],
  },
  {
    what: "an IP outside the CIDR",
    changes: { nodes: { pg2: { ip: "10.0.0.5" } } },
    errors: ['nodes.pg2.ip: outside 192.168.100.0/24 (got "10.0.0.5")'],
  },
  {
    what: "an IP equal to the gateway",
    changes: { nodes: { lb: { ip: "192.168.100.1" } } },
    errors: ['nodes.lb.ip: equals the gateway (got "192.168.100.1")'],
  },
  {
    what: "replication factor > brokers",
    changes: { kafkaReplicationFactor: "3" },
    errors: ["kafkaReplicationFactor: exceeds kafkaBrokers (2) (got 3)"],
  },
  {
    what: "min.insync.replicas > RF",
    changes: { kafkaMinInsyncReplicas: "3" },
    errors: ["kafkaMinInsyncReplicas: exceeds kafkaReplicationFactor (2) (got 3)"],
  },
  {
    what: "fewer than 3 controller voters",
    changes: { kafkaControllerVoters: "2" },
    errors: ["kafkaControllerVoters: needs at least 3 voters to survive losing one (got 2)"],
  },
  {
    what: "an even number of voters",
    changes: { kafkaControllerVoters: "4" },
    errors: [
      "kafkaControllerVoters: must be odd (an even voter count adds no fault tolerance) (got 4)",
    ],
  },
  {
    what: "cores, memory and disk out of range",
    changes: { nodes: { pg1: { cores: 64, memoryMb: 100, diskGb: 1 } } },
    errors: [
      "nodes.pg1.cores: must be between 1 and 32 (got 64)",
      "nodes.pg1.memoryMb: must be between 256 and 262144 (got 100)",
      "nodes.pg1.diskGb: must be between 4 and 4096 (got 1)",
    ],
  },
  {
    what: "an unknown LB algorithm",
    changes: { lbAlgorithm: "random" },
    errors: ['lbAlgorithm: must be one of round_robin, least_conn, ip_hash (got "random")'],
  },
  {
    what: "a missing SSH key secret",
    changes: { proxmoxSshPrivateKey: undefined },
    errors: [
      "proxmoxSshPrivateKey: required secret is missing (set it with `pulumi config set --secret proxmoxSshPrivateKey`)",
    ],
  },
  {
    what: "a missing API token secret",
    changes: { "proxmoxve:apiToken": "" },
    errors: [
      "proxmoxve:apiToken: required secret is missing (set it with `pulumi config set --secret proxmoxve:apiToken`)",
    ],
  },
  {
    what: "a CIDR with host bits",
    changes: { networkCidr: "192.168.100.5/24" },
    errors: [
      'networkCidr: must be an IPv4 CIDR a.b.c.d/8..30 with zero host bits (got "192.168.100.5/24")',
    ],
  },
  {
    what: "a gateway outside the network",
    changes: { networkGateway: "10.1.1.1" },
    errors: ['networkGateway: outside networkCidr 192.168.100.0/24 (got "10.1.1.1")'],
  },
  {
    what: "a non-numeric broker count",
    changes: { kafkaBrokers: "two" },
    errors: ['kafkaBrokers: must be an integer (got "two")'],
  },
  {
    what: "an override of an unknown node",
    changes: { nodes: { web9: { cores: 2 } } },
    errors: [
      'nodes.web9: unknown node (known: lb, webserver1, webserver2, pg1, pg2, pgproxy, kafka1, kafka2, kafka3, monitor, lb2) (got "web9")',
    ],
  },
  {
    what: "an unknown override field",
    changes: { nodes: { lb: { color: "red" } } },
    errors: [
      'nodes.lb.color: unknown field (known: vmid, ip, cores, memoryMb, diskGb, proxmoxNode) (got "color")',
    ],
  },
  {
    what: "an artifact URL without a checksum",
    changes: { artifacts: { kafka: { url: "https://example.org/k.tgz" } } },
    errors: [
      'artifacts.kafka: a url needs sha256 or sha512 (got {"url":"https://example.org/k.tgz"})',
    ],
  },
  {
    what: "a malformed artifact checksum",
    changes: { artifacts: { kafka: { url: "https://example.org/k.tgz", sha256: "abc" } } },
    errors: ['artifacts.kafka.sha256: must be 64 lowercase hex digits (got "abc")'],
  },
  {
    what: "a network too small for the nodes",
    changes: { networkFirstHost: "250" },
    errors: [
      "networkFirstHost: 11 nodes from this host number do not fit in 192.168.100.0/24 (got 250)",
    ],
  },
  {
    what: "a misspelt setting",
    changes: { kafkaBroker: "3" },
    errors: ['kafkaBroker: unknown setting (got "3")'],
  },
  {
    what: "an endpoint that is no URL",
    changes: { "proxmoxve:endpoint": "pve:8006" },
    errors: ['proxmoxve:endpoint: must be the https URL of the Proxmox API (got "pve:8006")'],
  },
  {
    what: "a broker heartbeat not below the broker session timeout",
    changes: { kafkaBrokerSessionTimeoutMs: "3000", kafkaBrokerHeartbeatIntervalMs: "3000" },
    errors: [
      "kafkaBrokerHeartbeatIntervalMs: must be below kafkaBrokerSessionTimeoutMs (3000) (got 3000)",
    ],
  },
  {
    what: "a heartbeat too close to the session timeout",
    changes: { appKafkaHeartbeatIntervalMs: "2500" },
    errors: [
      "appKafkaHeartbeatIntervalMs: must be at most a third of appKafkaSessionTimeoutMs (6000) (got 2500)",
    ],
  },
  {
    what: "a Kafka publish deadline out of range",
    changes: { appKafkaPublishDeadlineMs: "500" },
    errors: ["appKafkaPublishDeadlineMs: must be between 1000 and 120000 (got 500)"],
  },
  {
    what: "a Kafka publish deadline that is no integer",
    changes: { appKafkaPublishDeadlineMs: "15s" },
    errors: ['appKafkaPublishDeadlineMs: must be an integer (got "15s")'],
  },
  {
    what: "three LBs",
    changes: { lbReplicas: "3" },
    errors: ["lbReplicas: must be between 1 and 2 (got 3)"],
  },
  {
    what: "an LB count that is no integer",
    changes: { lbReplicas: "two" },
    errors: ['lbReplicas: must be an integer (got "two")'],
  },
  {
    what: "an override of lb2 with one LB",
    changes: { lbReplicas: "1", nodes: { lb2: { cores: 2 } } },
    errors: [
      'nodes.lb2: unknown node (known: lb, webserver1, webserver2, pg1, pg2, pgproxy, kafka1, kafka2, kafka3, monitor) (got "lb2")',
    ],
  },
  {
    what: "a backup repository on a PostgreSQL node",
    changes: { pgBackupRepoNode: "pg2" },
    errors: [
      'pgBackupRepoNode: must not be a PostgreSQL node (its loss would take the backups with it) (got "pg2")',
    ],
  },
  {
    what: "a backup repository on no node, and a bad schedule",
    changes: { pgBackupRepoNode: "backup9", pgBackupFullSchedule: "daily; rm -rf /" },
    errors: [
      'pgBackupFullSchedule: must be a systemd calendar event (got "daily; rm -rf /")',
      'pgBackupRepoNode: no such node (nodes: lb, webserver1, webserver2, pg1, pg2, pgproxy, kafka1, kafka2, kafka3, monitor, lb2) (got "backup9")',
    ],
  },
  {
    what: "a virtual IP that is no address",
    changes: { lbVirtualIp: "vip.example" },
    errors: [
      'lbVirtualIp: must be an IPv4 address, or empty to derive one from networkCidr (got "vip.example")',
    ],
  },
  {
    what: "a virtual IP outside the network",
    changes: { lbVirtualIp: "10.0.0.5" },
    errors: ['lbVirtualIp: outside networkCidr 192.168.100.0/24 (got "10.0.0.5")'],
  },
  {
    what: "the network address as virtual IP",
    changes: { lbVirtualIp: "192.168.100.0" },
    errors: [
      'lbVirtualIp: is the network address of networkCidr 192.168.100.0/24 (got "192.168.100.0")',
    ],
  },
  {
    what: "the broadcast address as virtual IP",
    changes: { lbVirtualIp: "192.168.100.255" },
    errors: [
      'lbVirtualIp: is the broadcast address of networkCidr 192.168.100.0/24 (got "192.168.100.255")',
    ],
  },
  {
    what: "the gateway as virtual IP",
    changes: { lbVirtualIp: "192.168.100.1" },
    errors: ['lbVirtualIp: equals networkGateway (got "192.168.100.1")'],
  },
  {
    what: "a node's derived address as virtual IP",
    changes: { lbVirtualIp: "192.168.100.20" },
    errors: ['lbVirtualIp: equals the address of node lb2 (derived) (got "192.168.100.20")'],
  },
  {
    what: "a node's overridden address as virtual IP",
    changes: { lbVirtualIp: "192.168.100.200", nodes: { pg2: { ip: "192.168.100.200" } } },
    errors: ['lbVirtualIp: equals the address of node pg2 (nodes.pg2.ip) (got "192.168.100.200")'],
  },
  {
    what: "a VRRP router id out of range",
    changes: { lbVrrpRouterId: "256" },
    errors: ["lbVrrpRouterId: must be between 1 and 255 (got 256)"],
  },
  {
    what: "a VRRP advert interval below 100 ms",
    changes: { lbVrrpAdvertIntervalMs: "50" },
    errors: ["lbVrrpAdvertIntervalMs: must be between 100 and 10000 (got 50)"],
  },
  {
    what: "an LB probe interval between off and the least",
    changes: { lbProbeIntervalMs: "20" },
    errors: ["lbProbeIntervalMs: must be 0 (off) or at least 50 (got 20)"],
  },
  {
    what: "an LB probe timeout and failure count out of range",
    changes: { lbProbeTimeoutMs: "10", lbProbeFailures: "0" },
    errors: [
      "lbProbeTimeoutMs: must be between 50 and 10000 (got 10)",
      "lbProbeFailures: must be between 1 and 20 (got 0)",
    ],
  },
  {
    what: "a VRRP advert interval keepalived would round",
    changes: { lbVrrpAdvertIntervalMs: "505" },
    errors: [
      "lbVrrpAdvertIntervalMs: must be a multiple of 10 (VRRPv3 counts centiseconds) (got 505)",
    ],
  },
  {
    what: "both LBs on one of several hosts",
    changes: {
      proxmoxHosts: {
        pve: { sshHost: "pve1.example" },
        pve2: { sshHost: "pve2.example" },
        pve3: { sshHost: "pve3.example" },
      },
      nodes: { lb: { proxmoxNode: "pve" }, lb2: { proxmoxNode: "pve" } },
      pgBackupRepoNode: "pgproxy",
    },
    errors: [
      'placement: losing host "pve" takes both load balancers (lb, lb2); move nodes with nodes.<name>.proxmoxNode, add a host, or set allowUnsafePlacement: true',
    ],
  },
  {
    what: "an app role equal to the replication role",
    changes: { pgAppUser: "replicator" },
    errors: ['pgAppUser: must differ from postgres, prometheus, replicator (got "replicator")'],
  },
  {
    what: "a pgParameters name that is no PostgreSQL parameter name",
    changes: { pgParameters: { "Work-Mem": "8MB" } },
    errors: [
      'pgParameters.Work-Mem: must be a PostgreSQL parameter name (^[a-z_][a-z0-9_.]*$) (got "8MB")',
    ],
  },
  {
    what: "a pgParameters value with a newline",
    changes: { pgParameters: { work_mem: "8MB\nport = 5433" } },
    errors: [
      'pgParameters.work_mem: must not contain a newline or control character (got "8MB\\nport = 5433")',
    ],
  },
  {
    what: "a pgParameters value that is an object",
    changes: { pgParameters: { work_mem: { mb: 8 } } },
    errors: ['pgParameters.work_mem: must be a string (or a number or boolean) (got {"mb":8})'],
  },
  {
    what: "PostgreSQL parameters the stack owns in pgParameters",
    changes: { pgParameters: { wal_level: "logical", shared_buffers: "1GB" } },
    errors: [
      'pgParameters.wal_level: is set by the stack, not by pgParameters: streaming replication needs replica (got "logical")',
      'pgParameters.shared_buffers: is set by the stack, not by pgParameters: use pgSharedBuffersMb (got "1GB")',
    ],
  },
  {
    what: "pgParameters that is no object",
    changes: { pgParameters: "work_mem=8MB" },
    errors: ['pgParameters: must be an object (got "work_mem=8MB")'],
  },
];

describe("config: validateConfig", () => {
  it("accepts the example stack", () => {
    assert.deepStrictEqual(validateConfig(exampleRaw()), []);
  });

  for (const bad of BAD_CONFIGS) {
    it(`rejects ${bad.what}`, () => {
      assert.deepStrictEqual(validateConfig(withSettings(bad.changes)), bad.errors);
    });
  }

  it("has at least 15 bad configurations", () => {
    assert.ok(BAD_CONFIGS.length >= 15, `only ${BAD_CONFIGS.length}`);
  });

  it("reports every problem at once", () => {
    const errors = validateConfig(
      withSettings({ lbAlgorithm: "random", kafkaControllerVoters: "2", proxmoxSshPrivateKey: "" }),
    );
    assert.strictEqual(errors.length, 3, errors.join("\n"));
  });

  it("never prints a secret value", () => {
    const errors = validateConfig(
      withSettings({ proxmoxSshPrivateKey: 42, "proxmoxve:apiToken": "", lbAlgorithm: "x" }),
    );
    assert.ok(errors.length > 0);
    for (const e of errors) assert.ok(!e.includes("placeholder"), e);
  });
});

describe("config: loadConfig", () => {
  it("throws one error listing every problem", () => {
    pulumi.runtime.setAllConfig(
      runtimeConfigOf(withSettings({ lbAlgorithm: "random", kafkaReplicationFactor: "3" })),
    );
    assert.throws(
      () => loadConfig(new pulumi.Config("pve-ha-stack")),
      (err: Error) =>
        err.message ===
        formatConfigErrors([
          'lbAlgorithm: must be one of round_robin, least_conn, ip_hash (got "random")',
          "kafkaReplicationFactor: exceeds kafkaBrokers (2) (got 3)",
        ]),
    );
  });

  it("reads the example stack with defaults filled in", () => {
    pulumi.runtime.setAllConfig(runtimeConfigOf(exampleRaw()));
    const cfg = loadConfig(new pulumi.Config("pve-ha-stack"));
    assert.strictEqual(cfg.lb.algorithm, "round_robin");
    assert.strictEqual(cfg.kafka.brokers, 2);
    assert.strictEqual(cfg.proxmox.sshHost, "pve.example.internal");
    assert.deepStrictEqual(cfg.nodes, { monitor: { memoryMb: 3072 } });
    assert.deepStrictEqual(cfg.pg.parameters, {});
    assert.deepStrictEqual(cfg.artifacts.app, {
      kind: "local",
      localPath: FIXTURE_ARTIFACTS.app.localPath,
    });
  });
});

describe("config: pgParameters", () => {
  it("reads a map of parameters, numbers and booleans as text", () => {
    pulumi.runtime.setAllConfig(
      runtimeConfigOf(
        withSettings({ pgParameters: { work_mem: "8MB", max_connections: 300, jit: false } }),
      ),
    );
    const cfg = loadConfig(new pulumi.Config("pve-ha-stack"));
    assert.deepStrictEqual(cfg.pg.parameters, {
      work_mem: "8MB",
      max_connections: "300",
      jit: "false",
    });
    assert.strictEqual(cfg.pg.sharedBuffersMb, 256);
  });
});

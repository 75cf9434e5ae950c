import { strict as assert } from "assert";
import { CONTROLLER_ONLY_VOTER_FETCH_TIMEOUT_EXTRA_MS } from "../../components/config/kafkaTimings";
import {
  KafkaClusterSpec,
  kafkaBootstrapServers,
  kafkaQuorumVoters,
  renderLog4j2,
  renderServerProperties,
  toKafkaClusterId,
} from "../../components/render/kafka";

function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    assert.ok(eq > 0, `not a property line: ${line}`);
    const key = line.slice(0, eq);
    assert.ok(!map.has(key), `duplicate key ${key}`);
    map.set(key, line.slice(eq + 1));
  }
  return map;
}

function paperCluster(): KafkaClusterSpec {
  return {
    clusterId: "Dx4tPEtaaXiHlqW0w9Lh8A",
    nodes: [
      { nodeId: 1, host: "10.10.0.16", roles: ["broker", "controller"] },
      { nodeId: 2, host: "10.10.0.17", roles: ["broker", "controller"] },
      { nodeId: 3, host: "10.10.0.18", roles: ["controller"] },
    ],
    numPartitions: 1,
    defaultReplicationFactor: 2,
    minInsyncReplicas: 1,
    dataDir: "/var/lib/kafka/data",
  };
}

describe("kafka render: toKafkaClusterId", () => {
  it("encodes the 16 UUID bytes as 22 base64url characters", () => {
    assert.equal(
      toKafkaClusterId("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
      "Dx4tPEtaaXiHlqW0w9Lh8A",
    );
    assert.equal(
      toKafkaClusterId("0F1E2D3C4B5A69788796A5B4C3D2E1F0"),
      toKafkaClusterId("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
    );
  });

  it("uses the URL-safe alphabet", () => {
    const id = toKafkaClusterId("ffffffff-ffff-ffff-ffff-fffffffffffe");
    assert.equal(id, "_____________________g");
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
  });

  it("rejects a value that is not a UUID, naming it", () => {
    assert.throws(() => toKafkaClusterId("not-a-uuid"), /not a UUID \(got "not-a-uuid"\)/);
    assert.throws(() => toKafkaClusterId("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1"), /not a UUID/);
  });
});

describe("kafka render: server.properties", () => {
  it("renders a combined broker+controller node of the paper layout", () => {
    const p = parseProperties(renderServerProperties(paperCluster(), 1));
    assert.equal(p.get("process.roles"), "broker,controller");
    assert.equal(p.get("node.id"), "1");
    assert.equal(
      p.get("controller.quorum.voters"),
      "1@10.10.0.16:9093,2@10.10.0.17:9093,3@10.10.0.18:9093",
    );
    assert.equal(p.get("listeners"), "PLAINTEXT://10.10.0.16:9092,CONTROLLER://10.10.0.16:9093");
    assert.equal(p.get("advertised.listeners"), "PLAINTEXT://10.10.0.16:9092");
    assert.equal(p.get("controller.listener.names"), "CONTROLLER");
    assert.equal(p.get("inter.broker.listener.name"), "PLAINTEXT");
    assert.equal(p.get("log.dirs"), "/var/lib/kafka/data");
    assert.equal(p.get("default.replication.factor"), "2");
    assert.equal(p.get("min.insync.replicas"), "1");
    assert.equal(p.get("num.partitions"), "1");
    assert.equal(p.get("offsets.topic.replication.factor"), "2");
    assert.equal(p.get("transaction.state.log.min.isr"), "1");
    assert.equal(p.get("unclean.leader.election.enable"), "false");
  });

  it("renders a controller-only voter without broker listeners", () => {
    const p = parseProperties(renderServerProperties(paperCluster(), 3));
    assert.equal(p.get("process.roles"), "controller");
    assert.equal(p.get("listeners"), "CONTROLLER://10.10.0.18:9093");
    assert.equal(p.has("advertised.listeners"), false);
    assert.equal(p.has("inter.broker.listener.name"), false);
  });

  it("caps internal topic replication at the broker count", () => {
    const cluster: KafkaClusterSpec = {
      ...paperCluster(),
      nodes: [{ nodeId: 1, host: "127.0.0.1", roles: ["broker", "controller"] }],
      defaultReplicationFactor: 1,
    };
    const p = parseProperties(renderServerProperties(cluster, 1));
    assert.equal(p.get("offsets.topic.replication.factor"), "1");
    assert.equal(p.get("share.coordinator.state.topic.replication.factor"), "1");
  });

  it("honours ports, group tuning and extra properties (extra last)", () => {
    const text = renderServerProperties(
      {
        ...paperCluster(),
        brokerPort: 19092,
        controllerPort: 19093,
        groupInitialRebalanceDelayMs: 0,
        groupMinSessionTimeoutMs: 2000,
        brokerSessionTimeoutMs: 4000,
        brokerHeartbeatIntervalMs: 1000,
        extraProperties: { "log.retention.hours": 24 },
      },
      2,
    );
    assert.match(
      text,
      /^listeners=PLAINTEXT:\/\/10\.10\.0\.17:19092,CONTROLLER:\/\/10\.10\.0\.17:19093$/m,
    );
    assert.match(text, /^group\.initial\.rebalance\.delay\.ms=0$/m);
    assert.match(text, /^group\.min\.session\.timeout\.ms=2000$/m);
    assert.match(text, /^broker\.session\.timeout\.ms=4000$/m);
    assert.match(text, /^broker\.heartbeat\.interval\.ms=1000$/m);
    assert.ok(text.trimEnd().endsWith("log.retention.hours=24"));
  });

  it("renders the controller quorum timeouts on controllers only, longer on controller-only voters", () => {
    const cluster: KafkaClusterSpec = {
      ...paperCluster(),
      controllerQuorumFetchTimeoutMs: 1500,
      controllerQuorumElectionTimeoutMs: 750,
    };
    for (const node of cluster.nodes) {
      const p = parseProperties(renderServerProperties(cluster, node.nodeId));
      const extra = node.roles.includes("broker")
        ? 0
        : CONTROLLER_ONLY_VOTER_FETCH_TIMEOUT_EXTRA_MS;
      const fetch = 1500 + extra;
      assert.equal(
        p.get("controller.quorum.fetch.timeout.ms"),
        String(fetch),
        `node ${node.nodeId}`,
      );
      assert.equal(p.get("controller.quorum.election.timeout.ms"), "750");
      assert.equal(p.get("controller.quorum.election.backoff.max.ms"), "750");
    }
    const without = parseProperties(renderServerProperties(paperCluster(), 1));
    assert.equal(without.get("controller.quorum.fetch.timeout.ms"), undefined, "Kafka's default");
    assert.throws(
      () => renderServerProperties({ ...paperCluster(), controllerQuorumFetchTimeoutMs: 0 }, 1),
      /controllerQuorumFetchTimeoutMs must be an integer >= 1 \(got 0\)/,
    );
  });

  it("renders the follower lag bound and the offsets topic's partitions when given", () => {
    const p = parseProperties(
      renderServerProperties(
        { ...paperCluster(), replicaLagTimeMaxMs: 3000, offsetsTopicPartitions: 1 },
        1,
      ),
    );
    assert.equal(p.get("replica.lag.time.max.ms"), "3000");
    assert.equal(p.get("offsets.topic.num.partitions"), "1");
    const without = parseProperties(renderServerProperties(paperCluster(), 1));
    assert.equal(without.get("replica.lag.time.max.ms"), undefined, "Kafka's default");
    assert.equal(without.get("offsets.topic.num.partitions"), undefined, "Kafka's default");
    assert.throws(
      () => renderServerProperties({ ...paperCluster(), offsetsTopicPartitions: 0 }, 1),
      /offsetsTopicPartitions must be an integer >= 1 \(got 0\)/,
    );
  });

  it("brackets IPv6 hosts in listeners but not in the voter ids", () => {
    const cluster: KafkaClusterSpec = {
      ...paperCluster(),
      nodes: [{ nodeId: 1, host: "::1", roles: ["broker", "controller"] }],
      defaultReplicationFactor: 1,
    };
    const p = parseProperties(renderServerProperties(cluster, 1));
    assert.equal(p.get("listeners"), "PLAINTEXT://[::1]:9092,CONTROLLER://[::1]:9093");
  });

  it("derives bootstrap servers and voters", () => {
    assert.equal(kafkaBootstrapServers(paperCluster()), "10.10.0.16:9092,10.10.0.17:9092");
    assert.equal(kafkaQuorumVoters(paperCluster()).split(",").length, 3);
  });

  const bad: [string, (c: KafkaClusterSpec) => KafkaClusterSpec, RegExp][] = [
    ["a short cluster id", (c) => ({ ...c, clusterId: "abc" }), /clusterId .*got "abc"/],
    [
      "duplicate node ids",
      (c) => ({ ...c, nodes: [c.nodes[0], { ...c.nodes[1], nodeId: 1 }] }),
      /duplicate nodeId 1/,
    ],
    [
      "no controller",
      (c) => ({ ...c, nodes: c.nodes.map((n) => ({ ...n, roles: ["broker"] })) }),
      /controller role/,
    ],
    [
      "replication above the broker count",
      (c) => ({ ...c, defaultReplicationFactor: 3 }),
      /defaultReplicationFactor 3 exceeds the 2 broker/,
    ],
    [
      "min ISR above replication",
      (c) => ({ ...c, minInsyncReplicas: 3 }),
      /minInsyncReplicas 3 exceeds/,
    ],
    [
      "relative data dir",
      (c) => ({ ...c, dataDir: "data" }),
      /dataDir must be absolute \(got "data"\)/,
    ],
    ["zero partitions", (c) => ({ ...c, numPartitions: 0 }), /numPartitions .*got 0/],
    ["bad port", (c) => ({ ...c, brokerPort: 70000 }), /brokerPort .*got 70000/],
    [
      "a broker heartbeat not below the session timeout",
      (c) => ({ ...c, brokerSessionTimeoutMs: 2000 }),
      /brokerHeartbeatIntervalMs 2000 must be below brokerSessionTimeoutMs 2000/,
    ],
    [
      "a host with spaces",
      (c) => ({ ...c, nodes: [{ ...c.nodes[0], host: "a b" }, ...c.nodes.slice(1)] }),
      /host is invalid \(got "a b"\)/,
    ],
    [
      "an extra key that is no property name",
      (c) => ({ ...c, extraProperties: { "bad key\nx": 1 } }),
      /extraProperties key/,
    ],
  ];
  for (const [what, mutate, message] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(() => renderServerProperties(mutate(paperCluster()), 1), message);
    });
  }

  it("rejects a node id that is not in the cluster", () => {
    assert.throws(
      () => renderServerProperties(paperCluster(), 9),
      /nodeId 9 is not in the cluster/,
    );
  });
});

describe("kafka render: log4j2", () => {
  it("logs to stdout at a level the process may override", () => {
    const text = renderLog4j2({ level: "WARN" });
    assert.match(text, /^appender\.stdout\.type = Console$/m);
    assert.match(text, /^rootLogger\.level = \$\{sys:kafka\.log\.level:-WARN\}$/m);
    assert.match(renderLog4j2(), /:-INFO\}/);
  });
});

import { checkCommandRoute } from "../../scripts/sandbox/perform-command";
import { strict as assert } from "assert";
import {
  parsePromTargets,
  parseQuorumVoters,
  parseRows,
  parseTopicDescription,
} from "../../scripts/sandbox/check-parse";
import { topologyFromOutputs } from "../../scripts/sandbox/topology";

describe("sandbox checks: output parsers", () => {
  it("reads voters and leader of the KRaft quorum (JSON voter form)", () => {
    const text = [
      "ClusterId:              4L6g3nShT-eMCtK--X86sw",
      "LeaderId:               2",
      "LeaderEpoch:            5",
      'CurrentVoters:          [{"id": 3, "directoryId": "x", "endpoints": ["CONTROLLER://10.0.0.18:9093"]}, {"id": 1, "directoryId": "y", "endpoints": []}, {"id": 2}]',
      'CurrentObservers:       [{"id": 7}]',
    ].join("\n");
    assert.deepEqual(parseQuorumVoters(text), { leaderId: 2, voters: [1, 2, 3] });
  });

  it("reads voters of the older list form and a missing leader", () => {
    assert.deepEqual(parseQuorumVoters("CurrentVoters:  [1,2,3]\n"), {
      leaderId: undefined,
      voters: [1, 2, 3],
    });
  });

  it("reads partition count, RF, min ISR and each partition's replicas and ISR", () => {
    const text =
      "Topic: messages\tTopicId: abc\tPartitionCount: 1\tReplicationFactor: 2\tConfigs: min.insync.replicas=1,segment.bytes=1073741824\n" +
      "\tTopic: messages\tPartition: 0\tLeader: 1\tReplicas: 1,2\tIsr: 2,1\tElr: \tLastKnownElr: \n";
    assert.deepEqual(parseTopicDescription(text), {
      partitionCount: 1,
      replicationFactor: 2,
      minInsyncReplicas: 1,
      partitions: [{ partition: 0, replicas: [1, 2], isr: [2, 1] }],
    });
  });

  it("refuses text that is no topic description", () => {
    assert.throws(() => parseTopicDescription("Error: topic not found"), /not a topic description/);
  });

  it("splits psql -tA rows", () => {
    assert.deepEqual(parseRows("10.0.0.14|streaming|async\n\n"), [
      ["10.0.0.14", "streaming", "async"],
    ]);
  });

  it("reads Prometheus active targets and refuses an error answer", () => {
    const json = JSON.stringify({
      status: "success",
      data: {
        activeTargets: [
          { labels: { job: "node", instance: "10.0.0.10:9100" }, health: "up", lastError: "" },
          {
            labels: { job: "kafka", instance: "10.0.0.16:7071" },
            health: "down",
            lastError: "refused",
          },
        ],
      },
    });
    assert.deepEqual(parsePromTargets(json), [
      { job: "node", instance: "10.0.0.10:9100", health: "up", lastError: "" },
      { job: "kafka", instance: "10.0.0.16:7071", health: "down", lastError: "refused" },
    ]);
    assert.throws(() => parsePromTargets('{"status":"error"}'), /Prometheus answered status error/);
  });
});

describe("sandbox checks: topology from stack outputs", () => {
  const outputs = {
    lbUrl: "http://10.0.0.10/",
    kafkaBootstrapServers: "10.0.0.16:9092,10.0.0.17:9092",
    kafkaTopic: "messages",
    prometheusUrl: "http://10.0.0.19:9090",
    pgPrimary: "10.0.0.13:5433",
    settings: { pgDatabase: "messages", kafkaReplicationFactor: 2 },
    nodes: {
      lb: { vmid: 200, ip: "10.0.0.10", role: "nginx" },
      webserver2: { vmid: 202, ip: "10.0.0.12", role: "app" },
      webserver1: { vmid: 201, ip: "10.0.0.11", role: "app" },
      pg1: { vmid: 203, ip: "10.0.0.13", role: "pg-primary" },
      pg2: { vmid: 204, ip: "10.0.0.14", role: "pg-standby" },
      kafka1: { vmid: 206, ip: "10.0.0.16", role: "kafka", kafkaRoles: ["broker", "controller"] },
      kafka2: { vmid: 207, ip: "10.0.0.17", role: "kafka", kafkaRoles: ["broker", "controller"] },
      kafka3: { vmid: 208, ip: "10.0.0.18", role: "kafka", kafkaRoles: ["controller"] },
      monitor: { vmid: 209, ip: "10.0.0.19", role: "monitor" },
    },
  };

  it("derives app nodes, PG pair, brokers and voter ids", () => {
    const t = topologyFromOutputs(outputs);
    assert.deepEqual(
      t.appNodes.map((n) => n.name),
      ["webserver1", "webserver2"],
    );
    assert.deepEqual(
      t.pgNodes.map((n) => n.vmid),
      [203, 204],
    );
    assert.deepEqual(
      t.kafkaBrokers.map((n) => n.vmid),
      [206, 207],
    );
    assert.deepEqual(t.kafkaVoterIds, [1, 2, 3]);
    // Settings come from the stack's outputs, not from a guess.
    assert.equal(t.pgDatabase, "messages");
    assert.equal(t.pgPort, 5433);
    assert.equal(t.kafkaReplicationFactor, 2);
  });

  it("names a missing output and a missing role", () => {
    const noLb = Object.fromEntries(Object.entries(outputs).filter(([k]) => k !== "lbUrl"));
    assert.throws(() => topologyFromOutputs(noLb), /stack output lbUrl is missing/);
    const nodes = Object.fromEntries(Object.entries(outputs.nodes).filter(([k]) => k !== "pg2"));
    assert.throws(
      () => topologyFromOutputs({ ...outputs, nodes }),
      /expected two PostgreSQL nodes, found 1/,
    );
  });
});

describe("sandbox: each container's commands go to the host that holds it", () => {
  const ctx = {
    hostSsh: { pve1: "pve1.example.internal", pve2: "pve2.example.internal" },
    state: {
      version: 1 as const,
      resources: {
        "c::pg2": {
          type: "proxmoxve:index/containerLegacy:ContainerLegacy",
          hash: "",
          id: "204",
          outputs: { vmId: 204, nodeName: "pve2" },
          at: "",
        },
      },
    },
  };
  const command = (host: string) => ({
    create: "pct exec 204 -- bash -s",
    connection: { host, user: "root" },
  });

  it("accepts a command sent to the container's host", () => {
    checkCommandRoute(ctx, "pg2-pg-configure", command("pve2.example.internal"));
  });

  it("refuses a command sent to another host, naming the container, its host and the target", () => {
    assert.throws(
      () => checkCommandRoute(ctx, "pg2-pg-configure", command("pve1.example.internal")),
      /^Error: command pg2-pg-configure: container 204 is on host pve2 \(pve2\.example\.internal\) but the command was sent to pve1\.example\.internal$/,
    );
  });
});

import { strict as assert } from "node:assert";
import {
  foreignEndpoints,
  kafkaBrokers,
  kafkaVoters,
  nodeNamed,
  nodesByRole,
  parseStackOutputs,
} from "../../scripts/drill/outputs";
import { exampleOutputs } from "../../scripts/drill/fixtures/example-outputs";

describe("drill stack outputs", () => {
  it("parses the outputs of the example stack", () => {
    const o = parseStackOutputs(JSON.stringify(exampleOutputs()));
    assert.equal(o.nodes.length, 10);
    assert.equal(nodeNamed(o, "pg1").vmid, 203);
    assert.deepEqual(
      nodesByRole(o, "app").map((n) => n.name),
      ["webserver1", "webserver2"],
    );
    assert.deepEqual(foreignEndpoints(o), []);
  });

  it("maps Kafka brokers and voters to KRaft node ids", () => {
    const o = parseStackOutputs(JSON.stringify(exampleOutputs()));
    assert.deepEqual(
      kafkaBrokers(o).map((n) => [n.name, n.kafkaNodeId]),
      [
        ["kafka1", 1],
        ["kafka2", 2],
      ],
    );
    assert.equal(kafkaVoters(o).length, 3);
    const raw = exampleOutputs();
    (raw.nodes as Record<string, Record<string, unknown>>).kafka3.kafkaRoles = ["controller"];
    (raw.nodes as Record<string, Record<string, unknown>>).kafka1.kafkaRoles = [
      "broker",
      "controller",
    ];
    (raw.nodes as Record<string, Record<string, unknown>>).kafka2.kafkaRoles = ["broker"];
    assert.deepEqual(
      kafkaVoters(parseStackOutputs(JSON.stringify(raw))).map((n) => n.name),
      ["kafka1", "kafka3"],
    );
  });

  it("lists every problem with the bad value", () => {
    const raw = exampleOutputs();
    delete raw.lbUrl;
    raw.prometheusUrl = "10.0.0.1:9090";
    (raw.nodes as Record<string, Record<string, unknown>>).pg1.ip = "ten";
    (raw.nodes as Record<string, Record<string, unknown>>).pg2.vmid = "x";
    assert.throws(
      () => parseStackOutputs(JSON.stringify(raw)),
      (e: Error) =>
        /lbUrl: expected a non-empty string \(got undefined\)/.test(e.message) &&
        /prometheusUrl: expected an http\(s\) URL \(got 10.0.0.1:9090\)/.test(e.message) &&
        /nodes.pg1.ip: expected an IPv4 address \(got "ten"\)/.test(e.message) &&
        /nodes.pg2.vmid: expected an integer >= 100 \(got "x"\)/.test(e.message),
    );
    assert.throws(() => parseStackOutputs("nope"), /stack outputs are not JSON/);
    assert.throws(
      () => nodeNamed(parseStackOutputs(JSON.stringify(exampleOutputs())), "db9"),
      /no node named db9/,
    );
  });

  it("reads the LB pair: its virtual IP is a stack address, lbNodes and the pair's settings", () => {
    const o = parseStackOutputs(JSON.stringify(exampleOutputs(null, true)));
    assert.equal(o.lbVirtualIp, "10.213.47.254");
    assert.deepEqual(o.lbNodes, ["lb", "lb2"]);
    assert.equal(o.settings.lbReplicas, 2);
    assert.equal(o.settings.lbVrrpAdvertIntervalMs, 500);
    assert.equal(o.lbUrl, "http://10.213.47.254");
    assert.deepEqual(foreignEndpoints(o), []);
    const single = parseStackOutputs(JSON.stringify(exampleOutputs()));
    assert.equal(single.lbVirtualIp, "");
    assert.deepEqual(single.lbNodes, ["lb"]);
    const raw = exampleOutputs(null, true);
    raw.lbVirtualIp = "vip";
    delete raw.lbNodes;
    delete (raw.settings as Record<string, unknown>).lbVrrpAdvertIntervalMs;
    assert.throws(
      () => parseStackOutputs(JSON.stringify(raw)),
      (e: Error) =>
        /lbVirtualIp: expected an IPv4 address or "" \(got "vip"\)/.test(e.message) &&
        /lbNodes: expected a non-empty list of node names \(got undefined\)/.test(e.message) &&
        /settings.lbVrrpAdvertIntervalMs: expected a positive integer/.test(e.message),
    );
  });

  it("refuses endpoints that are not the stack's own nodes", () => {
    const raw = exampleOutputs();
    raw.lbUrl = "http://192.0.2.1";
    raw.kafkaBootstrapServers = "10.213.47.16:9092,198.51.100.7:9092";
    assert.deepEqual(foreignEndpoints(parseStackOutputs(JSON.stringify(raw))), [
      "http://192.0.2.1",
      "198.51.100.7:9092",
    ]);
  });

  it("reads pgFailover: manual when a stack predates it, auto with Patroni's and etcd's endpoints", () => {
    const old = parseStackOutputs(JSON.stringify(exampleOutputs()));
    assert.equal(old.pgFailover.mode, "manual");
    assert.deepEqual(old.pgFailover.etcdMembers, []);
    const auto = {
      mode: "auto",
      patroniScope: "pve-ha",
      patroniRestApis: { pg1: "10.213.47.13:8008", pg2: "10.213.47.14:8008" },
      etcdMembers: ["pg1", "pg2", "pgproxy"],
      etcdEndpoints: ["10.213.47.13:2379", "10.213.47.14:2379", "10.213.47.15:2379"],
      synchronous: true,
      writeResumeBoundMs: 8500,
    };
    const o = parseStackOutputs(JSON.stringify({ ...exampleOutputs(), pgFailover: auto }));
    assert.deepEqual(o.pgFailover, auto);
    assert.throws(
      () =>
        parseStackOutputs(
          JSON.stringify({ ...exampleOutputs(), pgFailover: { ...auto, etcdMembers: ["pg1"] } }),
        ),
      /pgFailover: expected \{patroniScope, patroniRestApis \(2\), etcdMembers \(3\)/,
    );
  });
});

import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { runtimeConfigOf } from "../../components/config";
import { REPO_ROOT, exampleRaw, reveal, runProgram } from "./program-harness";

const CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy";

describe("program: other shapes and index.ts", function () {
  this.timeout(60000);

  it("scales to 3 app nodes and 3 combined Kafka nodes", async () => {
    const run = await runProgram(
      exampleRaw({
        appReplicas: "3",
        kafkaBrokers: "3",
        kafkaReplicationFactor: "3",
        kafkaMinInsyncReplicas: "2",
      }),
    );
    const containers = run.resources.filter((r) => r.type === CONTAINER).map((r) => r.name);
    assert.strictEqual(containers.length, 12);
    assert.ok(containers.includes("webserver3"));
    assert.strictEqual(
      run.outputs.kafkaBootstrapServers,
      "192.168.100.17:9092,192.168.100.18:9092,192.168.100.19:9092",
    );
    const nginx = String(reveal(run.byName("lb-nginx-configure").inputs.stdin));
    assert.strictEqual(nginx.match(/server 192\.168\.100\.\d+:3000 max_fails/g)?.length, 3);
    const topic = String(reveal(run.byName("kafka1-kafka-topic").inputs.stdin));
    assert.match(topic, /--replication-factor 3 --config min\.insync\.replicas=2/);
  });

  it("uses a given template instead of downloading one", async () => {
    const run = await runProgram(exampleRaw({ templateFileId: "local:vztmpl/my-debian.tar.zst" }));
    assert.ok(!run.resources.some((r) => r.type === "proxmoxve:download/file:File"));
    const pg1 = run.resources.find((r) => r.type === CONTAINER && r.name === "pg1");
    assert.deepStrictEqual(pg1?.inputs.operatingSystem, {
      templateFileId: "local:vztmpl/my-debian.tar.zst",
      type: "debian",
    });
  });

  it("downloads an artifact given by URL inside the container, checked by its digest", async () => {
    const sha512 = "a".repeat(128);
    const run = await runProgram(
      exampleRaw({ artifacts: { kafka: { url: "https://mirror.example/kafka.tgz", sha512 } } }),
    );
    assert.ok(!run.resources.some((r) => r.name === "kafka1-kafka-artifact-copy"));
    const fetch = String(reveal(run.byName("kafka1-kafka-artifact").inputs.stdin));
    assert.ok(fetch.includes("readonly URL='https://mirror.example/kafka.tgz'"));
    assert.ok(fetch.includes(`readonly SHA512='${sha512}'`));
  });

  it("index.ts exports exactly the documented outputs", async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, result: "x" } }),
        call: (args) => args.inputs,
      },
      "pve-ha-stack",
      "dev",
      false,
    );
    pulumi.runtime.setAllConfig(runtimeConfigOf(exampleRaw()));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const index = require(path.join(REPO_ROOT, "index.ts")) as Record<string, unknown>;
    assert.deepStrictEqual(Object.keys(index).sort(), [
      "adminPassword",
      "adminUrl",
      "alertmanagerUrl",
      "exposure",
      "grafanaAdminPassword",
      "grafanaUrl",
      "haproxyReadOnly",
      "haproxyReadWrite",
      "haproxyStatsUrl",
      "kafkaBootstrapServers",
      "kafkaClusterId",
      "kafkaTopic",
      "lbHttpsUrl",
      "lbNodes",
      "lbUrl",
      "lbVirtualIp",
      "nodes",
      "pgBackup",
      "pgFailover",
      "pgPrimary",
      "pgStandby",
      "prometheusUrl",
      "proxmoxHost",
      "proxmoxHosts",
      "settings",
    ]);
  });
});

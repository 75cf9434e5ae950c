import { strict as assert } from "assert";
import {
  kafkaJavaArgs,
  kafkaStorageFormatCommand,
  kafkaTopicCreateCommand,
  kafkaTopicDescribeCommand,
  renderKafkaUnit,
  shellJoin,
} from "../../components/render/kafka";

describe("kafka render: java command lines", () => {
  it("runs kafka.Kafka from the libs directory without the tarball scripts", () => {
    const args = kafkaJavaArgs({ heapMb: 1024 });
    assert.equal(args[0], "/usr/bin/java");
    assert.ok(args.includes("-Xmx1024m"));
    assert.deepEqual(args.slice(-4), [
      "-cp",
      "/opt/kafka/libs/*",
      "kafka.Kafka",
      "/etc/kafka/server.properties",
    ]);
    assert.ok(!args.some((a) => a.startsWith("-javaagent")));
  });

  it("adds the JMX agent before the main class", () => {
    const args = kafkaJavaArgs({
      heapMb: 512,
      jmxAgentJar: "/opt/jmx/agent.jar",
      jmxPort: 7071,
      jmxConfigPath: "/etc/kafka/jmx.yml",
    });
    const agent = args.indexOf("-javaagent:/opt/jmx/agent.jar=7071:/etc/kafka/jmx.yml");
    assert.ok(agent > 0 && agent < args.indexOf("kafka.Kafka"));
  });

  it("rejects an agent without port or rules, and a tiny heap", () => {
    assert.throws(
      () => kafkaJavaArgs({ heapMb: 512, jmxAgentJar: "/a.jar" }),
      /jmxPort and jmxConfigPath/,
    );
    assert.throws(() => kafkaJavaArgs({ heapMb: 64 }), /heapMb .*got 64/);
  });
});

describe("kafka render: systemd unit", () => {
  const unit = renderKafkaUnit({ heapMb: 1024 });

  it("quotes the classpath glob so java, not a shell, expands it", () => {
    assert.match(
      unit,
      /^ExecStart=\/usr\/bin\/java .* -cp '\/opt\/kafka\/libs\/\*' kafka\.Kafka \/etc\/kafka\/server\.properties$/m,
    );
  });

  it("runs as the kafka user, restarts on failure and treats 143 as success", () => {
    assert.match(unit, /^User=kafka$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^SuccessExitStatus=143$/m);
    assert.match(unit, /^WantedBy=multi-user\.target$/m);
  });

  it("escapes percent signs for systemd", () => {
    const text = renderKafkaUnit({ heapMb: 512, configPath: "/etc/kafka/100%.properties" });
    assert.match(text, /100%%\.properties/);
  });
});

describe("kafka render: tool commands", () => {
  it("formats storage idempotently with the cluster id", () => {
    const argv = kafkaStorageFormatCommand({ clusterId: "Dx4tPEtaaXiHlqW0w9Lh8A" });
    assert.ok(argv.includes("kafka.tools.StorageTool"));
    assert.deepEqual(argv.slice(argv.indexOf("kafka.tools.StorageTool") + 1), [
      "format",
      "--cluster-id=Dx4tPEtaaXiHlqW0w9Lh8A",
      "--config",
      "/etc/kafka/server.properties",
      "--ignore-formatted",
    ]);
    assert.throws(() => kafkaStorageFormatCommand({ clusterId: "x" }), /got "x"/);
  });

  it("creates a topic only if missing, with its configs", () => {
    const argv = kafkaTopicCreateCommand({
      bootstrapServers: "10.0.0.1:9092,10.0.0.2:9092",
      topic: {
        name: "messages",
        partitions: 1,
        replicationFactor: 2,
        configs: { "min.insync.replicas": 1 },
      },
    });
    const tail = argv.slice(argv.indexOf("org.apache.kafka.tools.TopicCommand") + 1);
    assert.deepEqual(tail, [
      "--bootstrap-server",
      "10.0.0.1:9092,10.0.0.2:9092",
      "--create",
      "--if-not-exists",
      "--topic",
      "messages",
      "--partitions",
      "1",
      "--replication-factor",
      "2",
      "--config",
      "min.insync.replicas=1",
    ]);
  });

  it("rejects a bad topic name, naming it", () => {
    assert.throws(
      () =>
        kafkaTopicCreateCommand({
          bootstrapServers: "h:9092",
          topic: { name: "bad topic", partitions: 1, replicationFactor: 1 },
        }),
      /topic name is invalid \(got "bad topic"\)/,
    );
  });

  it("describes a topic", () => {
    const argv = kafkaTopicDescribeCommand({ bootstrapServers: "h:9092", topic: "messages" });
    assert.deepEqual(argv.slice(-5), [
      "--bootstrap-server",
      "h:9092",
      "--describe",
      "--topic",
      "messages",
    ]);
  });
});

describe("kafka render: shellJoin", () => {
  it("quotes only what the shell would change", () => {
    assert.equal(
      shellJoin(["java", "-cp", "/opt/kafka/libs/*", "it's"]),
      `java -cp '/opt/kafka/libs/*' 'it'\\''s'`,
    );
  });
});

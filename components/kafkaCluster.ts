import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { artifactIdentity } from "./artifacts";
import type { ArtifactSource, KafkaSettings, NodePlan } from "./config/types";
import { installRolePackages, type NodeFactory } from "./lxcNodes";
import {
  KAFKA_BROKER_PORT,
  KAFKA_CONTROLLER_PORT,
  KAFKA_LIBS_DIR,
  KAFKA_LOG4J2_CONFIG,
  kafkaBootstrapServers,
  kafkaStorageFormatCommand,
  kafkaTopicCreateCommand,
  renderKafkaUnit,
  renderLog4j2,
  renderServerProperties,
  shellJoin,
  toKafkaClusterId,
  type KafkaClusterSpec,
} from "./render/kafka";
import {
  JMX_AGENT_JAR_PATH,
  JMX_AGENT_PORT,
  JMX_RULES_PATH,
  renderJmxAgentConfig,
} from "./render/observability/jmx";
import { renderJavaToolWrapper } from "./render/systemd";
import type { ProxmoxLxcNode } from "./proxmoxLxcNode";

export const KAFKA_DATA_DIR = "/var/lib/kafka/data";
const KAFKA_TARBALL = "/var/lib/pve-ha/artifacts/kafka.tgz";

export interface KafkaClusterArgs {
  plans: NodePlan[];
  kafka: KafkaSettings;
  kafkaArtifact: ArtifactSource;
  jmxAgentArtifact: ArtifactSource;
  createNode: NodeFactory;
}

/** Kafka's cluster spec for the planned nodes (node.id and roles from the plan). */
export function kafkaClusterSpec(
  plans: readonly NodePlan[],
  kafka: KafkaSettings,
  clusterId: string,
): KafkaClusterSpec {
  return {
    clusterId,
    nodes: plans.map((p) => {
      if (p.kafkaNodeId === undefined || !p.kafkaRoles) {
        throw new Error(`node ${p.name} is not a Kafka node`);
      }
      return { nodeId: p.kafkaNodeId, host: p.ip, roles: [...p.kafkaRoles] };
    }),
    numPartitions: kafka.partitions,
    offsetsTopicPartitions: kafka.offsetsTopicPartitions,
    defaultReplicationFactor: kafka.replicationFactor,
    minInsyncReplicas: kafka.minInsyncReplicas,
    dataDir: KAFKA_DATA_DIR,
    groupMinSessionTimeoutMs: kafka.groupMinSessionTimeoutMs,
    brokerSessionTimeoutMs: kafka.brokerSessionTimeoutMs,
    brokerHeartbeatIntervalMs: kafka.brokerHeartbeatIntervalMs,
    replicaLagTimeMaxMs: kafka.replicaLagTimeMaxMs,
    controllerQuorumFetchTimeoutMs: kafka.controllerQuorumFetchTimeoutMs,
    controllerQuorumElectionTimeoutMs: kafka.controllerQuorumElectionTimeoutMs,
  };
}

const TOOL_OPTS = { libsDir: KAFKA_LIBS_DIR, log4jConfigPath: KAFKA_LOG4J2_CONFIG };
/** After a restart, how long a Kafka node may take to be in sync again before the update fails. */
const KAFKA_IN_SYNC_TIMEOUT_SECONDS = 240;

/**
 * A KRaft Kafka cluster: brokers and controller voters as planned (default: 2 combined nodes +
 * 1 controller-only voter), then the app topic once every node is up.
 */
export class KafkaCluster extends pulumi.ComponentResource {
  readonly nodes: ProxmoxLxcNode[];
  readonly clusterId: pulumi.Output<string>;
  readonly bootstrapServers: string;
  readonly topic: string;
  /** The topic exists with the configured partitions, RF and min.insync.replicas. */
  readonly topicReady: command.remote.Command;

  constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-ha:messaging:KafkaCluster", name, {}, opts);
    const { kafka } = args;
    const uuid = new random.RandomUuid("kafka-cluster-uuid", {}, { parent: this });
    this.clusterId = uuid.result.apply(toKafkaClusterId);
    const spec = (clusterId: string) => kafkaClusterSpec(args.plans, kafka, clusterId);
    // Placeholder id only to derive the bootstrap list (the id is not part of it).
    this.bootstrapServers = kafkaBootstrapServers(spec("AAAAAAAAAAAAAAAAAAAAAA"));
    this.topic = kafka.topic;
    const kafkaIdentity = artifactIdentity(args.kafkaArtifact);

    const wrapper = (mainClass: string) => renderJavaToolWrapper({ mainClass, ...TOOL_OPTS });
    const nodeUp: command.remote.Command[] = [];
    // Rolling: each node's restarting steps wait for the previous node's configure, which after a
    // restart ends only once that node is in sync again (kafka-configure.sh).
    let previous: command.remote.Command | undefined;
    this.nodes = args.plans.map((plan) => {
      const afterPrevious = previous ? [previous] : [];
      const node = args.createNode(plan, this);
      const install = installRolePackages(node);
      const pushKafka = node.pushArtifact("kafka-artifact", {
        artifact: args.kafkaArtifact,
        dest: KAFKA_TARBALL,
      });
      const unpack = node.runPayload(
        "kafka-unpack",
        {
          payload: "unpack-tarball",
          vars: {
            TARBALL: KAFKA_TARBALL,
            TARGET_DIR: "/opt/kafka",
            CHECK_PATH: "libs",
            RESTART_UNIT: "kafka.service",
            ARTIFACT_IDENTITY: kafkaIdentity,
          },
        },
        { dependsOn: [pushKafka, ...afterPrevious] },
      );
      const pushJmx = node.pushArtifact("jmx-agent-artifact", {
        artifact: args.jmxAgentArtifact,
        dest: JMX_AGENT_JAR_PATH,
      });
      const nodeId = plan.kafkaNodeId ?? 0;
      const isBroker = plan.kafkaRoles?.includes("broker") ?? false;
      const configureVars = this.clusterId.apply((clusterId) => ({
        NODE_ID: nodeId,
        IS_BROKER: isBroker,
        IS_CONTROLLER: plan.kafkaRoles?.includes("controller") ?? false,
        LISTEN_HOST: plan.ip,
        BROKER_PORT: KAFKA_BROKER_PORT,
        CONTROLLER_PORT: KAFKA_CONTROLLER_PORT,
        DATA_DIR: KAFKA_DATA_DIR,
        SERVER_PROPERTIES: renderServerProperties(spec(clusterId), nodeId),
        LOG4J2: renderLog4j2(),
        JMX_RULES: renderJmxAgentConfig(),
        JMX_RULES_PATH: JMX_RULES_PATH,
        KAFKA_UNIT: renderKafkaUnit({
          heapMb: kafka.heapMb,
          jmxAgentJar: JMX_AGENT_JAR_PATH,
          jmxPort: JMX_AGENT_PORT,
          jmxConfigPath: JMX_RULES_PATH,
        }),
        WRAPPER_TOPICS: wrapper("org.apache.kafka.tools.TopicCommand"),
        WRAPPER_QUORUM: wrapper("org.apache.kafka.tools.MetadataQuorumCommand"),
        WRAPPER_GROUPS: wrapper("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"),
        WRAPPER_CONFIGS: wrapper("org.apache.kafka.tools.ConfigCommand"),
        FORMAT_COMMAND: shellJoin(kafkaStorageFormatCommand({ ...TOOL_OPTS, clusterId })),
        IN_SYNC_TIMEOUT_SECONDS: KAFKA_IN_SYNC_TIMEOUT_SECONDS,
      }));
      const configure = node.runPayload(
        "kafka-configure",
        { payload: "kafka-configure", vars: configureVars },
        { dependsOn: [install, unpack, pushJmx, ...afterPrevious] },
      );
      nodeUp.push(configure);
      previous = configure;
      return node;
    });

    const first = this.nodes.find((n) => n.plan.kafkaRoles?.includes("broker"));
    if (!first) throw new Error("kafka: no broker node in the plan");
    const topicArgv = kafkaTopicCreateCommand({
      ...TOOL_OPTS,
      bootstrapServers: this.bootstrapServers,
      topic: {
        name: kafka.topic,
        partitions: kafka.partitions,
        replicationFactor: kafka.replicationFactor,
        configs: { "min.insync.replicas": kafka.minInsyncReplicas },
      },
    });
    // Every voter and broker must be up: the topic needs the quorum and RF brokers.
    this.topicReady = first.runPayload(
      "kafka-topic",
      {
        payload: "kafka-topic",
        vars: {
          BOOTSTRAP_SERVERS: this.bootstrapServers,
          TOPIC: kafka.topic,
          TOPIC_COMMAND: shellJoin(topicArgv),
          MIN_INSYNC_REPLICAS: kafka.minInsyncReplicas,
        },
      },
      { dependsOn: nodeUp },
    );
    this.registerOutputs({ bootstrapServers: this.bootstrapServers, topic: this.topic });
  }
}

import { stringify } from "yaml";
import { METRICS_PORTS } from "./ports";

/** Where KafkaCluster puts the agent jar and this rule set on every Kafka node (docs/DESIGN.md). */
export const JMX_AGENT_JAR_PATH = "/opt/jmx-exporter/jmx_prometheus_javaagent.jar";
export const JMX_RULES_PATH = "/etc/kafka/jmx-exporter.yml";
export const JMX_AGENT_PORT = METRICS_PORTS.jmxAgent;

/**
 * Only these MBeans are queried: the agent walks every MBean matching includeObjectNames on each
 * scrape, so a whitelist is what keeps a scrape in the tens of milliseconds.
 */
export const JMX_INCLUDED_OBJECT_NAMES = [
  "kafka.server:type=ReplicaManager,*",
  "kafka.controller:type=KafkaController,*",
  "kafka.server:type=BrokerTopicMetrics,*",
  "kafka.server:type=raft-metrics",
  "kafka.server:type=KafkaRequestHandlerPool,name=RequestHandlerAvgIdlePercent",
  "kafka.network:type=RequestMetrics,name=TotalTimeMs,request=Produce",
  "kafka.network:type=RequestMetrics,name=TotalTimeMs,request=FetchConsumer",
  "kafka.network:type=RequestMetrics,name=TotalTimeMs,request=FetchFollower",
  "java.lang:type=Memory",
];

interface JmxRule {
  pattern: string;
  name: string;
  type?: "GAUGE" | "COUNTER";
  labels?: Record<string, string>;
  valueFactor?: number;
}

const RULES: JmxRule[] = [
  {
    pattern: "kafka.server<type=ReplicaManager, name=([^,]+)PerSec><>Count",
    name: "kafka_server_replicamanager_$1_total",
    type: "COUNTER",
  },
  {
    pattern: "kafka.server<type=ReplicaManager, name=([^,]+)><>Value",
    name: "kafka_server_replicamanager_$1",
    type: "GAUGE",
  },
  {
    pattern: "kafka.controller<type=KafkaController, name=([^,]+)><>Value",
    name: "kafka_controller_kafkacontroller_$1",
    type: "GAUGE",
  },
  {
    pattern: "kafka.server<type=BrokerTopicMetrics, name=(.+)PerSec, topic=(.+)><>Count",
    name: "kafka_server_brokertopicmetrics_$1_total",
    type: "COUNTER",
    labels: { topic: "$2" },
  },
  {
    pattern: "kafka.server<type=BrokerTopicMetrics, name=([^,]+)PerSec><>Count",
    name: "kafka_server_brokertopicmetrics_$1_total",
    type: "COUNTER",
  },
  {
    pattern:
      "kafka.server<type=raft-metrics><>(current-leader|current-epoch|current-vote|" +
      "high-watermark|log-end-offset|commit-latency-avg|number-unknown-voter-connections)",
    name: "kafka_server_raft_metrics_$1",
    type: "GAUGE",
  },
  {
    pattern:
      "kafka.server<type=KafkaRequestHandlerPool, name=RequestHandlerAvgIdlePercent><>OneMinuteRate",
    name: "kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent",
    type: "GAUGE",
  },
  {
    pattern:
      "kafka.network<type=RequestMetrics, name=TotalTimeMs, request=(.+)><>(50|99)thPercentile",
    name: "kafka_network_requestmetrics_totaltimems",
    type: "GAUGE",
    labels: { request: "$1", quantile: "0.$2" },
  },
  {
    pattern: "java.lang<type=Memory><HeapMemoryUsage>(used|committed|max)",
    name: "kafka_jvm_heap_$1_bytes",
    type: "GAUGE",
  },
];

/** The agent's YAML config (jmx_prometheus_javaagent 1.0.1). */
export function renderJmxAgentConfig(): string {
  return stringify(
    {
      lowercaseOutputName: true,
      lowercaseOutputLabelNames: true,
      includeObjectNames: JMX_INCLUDED_OBJECT_NAMES,
      rules: RULES,
    },
    { lineWidth: 0 },
  );
}

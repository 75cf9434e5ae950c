import { singleNodes } from "./plan";
import { PORTS } from "./ports";
import type { NodePlan, NodeRole, StackConfig } from "./types";

export interface NodeEndpoint {
  vmid: number;
  ip: string;
  role: NodeRole;
  proxmoxNode: string;
  kafkaRoles?: string[];
}

/** SSH access to one Proxmox host, where the `pct` commands for its containers run. */
export interface HostEndpoint {
  sshHost: string;
  sshPort: number;
  sshUser: string;
}

/** The settings tests and drills judge the deployed stack by (read from outputs, never guessed). */
export interface StackSettings {
  appPort: number;
  lbAlgorithm: string;
  kafkaTopic: string;
  kafkaPartitions: number;
  kafkaReplicationFactor: number;
  kafkaMinInsyncReplicas: number;
  kafkaControllerVoters: number;
  appKafkaPublishDeadlineMs: number;
  pgDatabase: string;
}

/** The stack outputs the drills and the sandbox read (all plain: no secret in here). */
export interface StackEndpoints {
  lbUrl: string;
  adminUrl: string;
  haproxyReadWrite: string;
  haproxyReadOnly: string;
  haproxyStatsUrl: string;
  pgPrimary: string;
  pgStandby: string;
  kafkaBootstrapServers: string;
  kafkaTopic: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  grafanaUrl: string;
  /** SSH host of the first Proxmox host (the only one by default). */
  proxmoxHost: string;
  /** Every Proxmox host by node name; each node's `proxmoxNode` names one. */
  proxmoxHosts: Record<string, HostEndpoint>;
  nodes: Record<string, NodeEndpoint>;
  settings: StackSettings;
}

export function kafkaBrokerPlans(plans: readonly NodePlan[]): NodePlan[] {
  return plans.filter((p) => p.role === "kafka" && p.kafkaRoles?.includes("broker"));
}

export function stackEndpoints(cfg: StackConfig, plans: readonly NodePlan[]): StackEndpoints {
  const { lb, pgPrimary, pgStandby, pgProxy, monitor } = singleNodes(plans);
  const nodes: Record<string, NodeEndpoint> = {};
  for (const p of plans) {
    nodes[p.name] = {
      vmid: p.vmid,
      ip: p.ip,
      role: p.role,
      proxmoxNode: p.proxmoxNode,
      ...(p.kafkaRoles ? { kafkaRoles: [...p.kafkaRoles] } : {}),
    };
  }
  return {
    lbUrl: `http://${lb.ip}/`,
    adminUrl: `http://${lb.ip}/admin`,
    haproxyReadWrite: `${pgProxy.ip}:${PORTS.haproxyReadWrite}`,
    haproxyReadOnly: `${pgProxy.ip}:${PORTS.haproxyReadOnly}`,
    haproxyStatsUrl: `http://${pgProxy.ip}:${PORTS.haproxyStats}/stats`,
    pgPrimary: `${pgPrimary.ip}:${PORTS.postgres}`,
    pgStandby: `${pgStandby.ip}:${PORTS.postgres}`,
    kafkaBootstrapServers: kafkaBrokerPlans(plans)
      .map((p) => `${p.ip}:${PORTS.kafka}`)
      .join(","),
    kafkaTopic: cfg.kafka.topic,
    prometheusUrl: `http://${monitor.ip}:${PORTS.prometheus}`,
    alertmanagerUrl: `http://${monitor.ip}:${PORTS.alertmanager}`,
    grafanaUrl: cfg.observability.grafanaEnabled ? `http://${monitor.ip}:${PORTS.grafana}` : "",
    proxmoxHost: cfg.hosts[0]?.sshHost ?? cfg.proxmox.sshHost,
    proxmoxHosts: Object.fromEntries(
      cfg.hosts.map((h) => [
        h.name,
        { sshHost: h.sshHost, sshPort: h.sshPort, sshUser: h.sshUser },
      ]),
    ),
    nodes,
    settings: {
      appPort: cfg.app.port,
      lbAlgorithm: cfg.lb.algorithm,
      kafkaTopic: cfg.kafka.topic,
      kafkaPartitions: cfg.kafka.partitions,
      kafkaReplicationFactor: cfg.kafka.replicationFactor,
      kafkaMinInsyncReplicas: cfg.kafka.minInsyncReplicas,
      kafkaControllerVoters: cfg.kafka.controllerVoters,
      appKafkaPublishDeadlineMs: cfg.app.kafkaPublishDeadlineMs,
      pgDatabase: cfg.pg.database,
    },
  };
}

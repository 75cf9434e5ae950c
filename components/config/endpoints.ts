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
  proxmoxHost: string;
  nodes: Record<string, NodeEndpoint>;
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
    proxmoxHost: cfg.proxmox.sshHost,
    nodes,
  };
}

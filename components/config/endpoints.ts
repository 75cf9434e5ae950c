import {
  HAPROXY_NAME,
  LB_NAME,
  MONITOR_NAME,
  PG_PRIMARY_NAME,
  PG_STANDBY_NAME,
  nodeNamed,
} from "./plan";
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
  const lb = nodeNamed(plans, LB_NAME);
  const proxy = nodeNamed(plans, HAPROXY_NAME);
  const monitor = nodeNamed(plans, MONITOR_NAME);
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
    haproxyReadWrite: `${proxy.ip}:${PORTS.haproxyReadWrite}`,
    haproxyReadOnly: `${proxy.ip}:${PORTS.haproxyReadOnly}`,
    haproxyStatsUrl: `http://${proxy.ip}:${PORTS.haproxyStats}/stats`,
    pgPrimary: `${nodeNamed(plans, PG_PRIMARY_NAME).ip}:${PORTS.postgres}`,
    pgStandby: `${nodeNamed(plans, PG_STANDBY_NAME).ip}:${PORTS.postgres}`,
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

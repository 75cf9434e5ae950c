import { placeNodes } from "./hosts";
import { hostAddress, parseCidr } from "./net";
import type { KafkaNodeRole, NodePlan, NodeRole, StackConfig } from "./types";

interface NodeShape {
  name: string;
  role: NodeRole;
  kafkaRoles?: KafkaNodeRole[];
  kafkaNodeId?: number;
}

interface Size {
  cores: number;
  memoryMb: number;
  diskGb: number;
}

const SMALL: Size = { cores: 1, memoryMb: 512, diskGb: 8 };
const APP: Size = { cores: 1, memoryMb: 1024, diskGb: 8 };
const LARGE: Size = { cores: 2, memoryMb: 2048, diskGb: 16 };
const CONTROLLER_ONLY: Size = { cores: 1, memoryMb: 1024, diskGb: 8 };

/** Proxmox start order: data tiers first, then the proxy, the apps, the LB, monitoring last. */
const START_ORDER: Record<NodeRole, number> = {
  "pg-primary": 1,
  "pg-standby": 2,
  kafka: 2,
  haproxy: 3,
  app: 4,
  nginx: 5,
  monitor: 6,
};

export const PG_PRIMARY_NAME = "pg1";
export const PG_STANDBY_NAME = "pg2";
export const LB_NAME = "lb";
/** The second LB of a pair (lbReplicas 2), planned after every other node. */
export const LB2_NAME = "lb2";
export const HAPROXY_NAME = "pgproxy";
export const MONITOR_NAME = "monitor";

export function appNodeName(index: number): string {
  return `webserver${index + 1}`;
}

export function kafkaNodeName(index: number): string {
  return `kafka${index + 1}`;
}

/**
 * Kafka node i: the first min(brokers, voters) nodes are combined broker+controller, the rest are
 * brokers only (more brokers than voters) or controllers only (more voters than brokers).
 */
export function kafkaRolesOf(index: number, brokers: number, voters: number): KafkaNodeRole[] {
  if (index < Math.min(brokers, voters)) return ["broker", "controller"];
  return brokers > voters ? ["broker"] : ["controller"];
}

/**
 * Names and roles of every node in plan order (what the defaults are derived from). The second
 * LB comes last, after the monitor: adding it leaves every other node's VMID and address as they
 * were.
 */
export function nodeShapes(cfg: Pick<StackConfig, "app" | "kafka" | "lb">): NodeShape[] {
  const shapes: NodeShape[] = [{ name: LB_NAME, role: "nginx" }];
  for (let i = 0; i < cfg.app.replicas; i++) shapes.push({ name: appNodeName(i), role: "app" });
  shapes.push(
    { name: PG_PRIMARY_NAME, role: "pg-primary" },
    { name: PG_STANDBY_NAME, role: "pg-standby" },
    { name: HAPROXY_NAME, role: "haproxy" },
  );
  const kafkaNodes = Math.max(cfg.kafka.brokers, cfg.kafka.controllerVoters);
  for (let i = 0; i < kafkaNodes; i++) {
    shapes.push({
      name: kafkaNodeName(i),
      role: "kafka",
      kafkaRoles: kafkaRolesOf(i, cfg.kafka.brokers, cfg.kafka.controllerVoters),
      kafkaNodeId: i + 1,
    });
  }
  shapes.push({ name: MONITOR_NAME, role: "monitor" });
  if (cfg.lb.replicas === 2) shapes.push({ name: LB2_NAME, role: "nginx" });
  return shapes;
}

function defaultSize(shape: NodeShape): Size {
  switch (shape.role) {
    case "nginx":
    case "haproxy":
      return SMALL;
    case "app":
      return APP;
    case "kafka":
      return shape.kafkaRoles?.includes("broker") ? LARGE : CONTROLLER_ONLY;
    case "pg-primary":
    case "pg-standby":
    case "monitor":
      return LARGE;
  }
}

/** Every container of the stack with its defaults and per-node overrides applied. */
export function planNodes(cfg: StackConfig): NodePlan[] {
  const cidr = parseCidr(cfg.network.cidr);
  if (!cidr) throw new Error(`networkCidr: not an IPv4 CIDR (got "${cfg.network.cidr}")`);
  const shapes = nodeShapes(cfg);
  const hosts = placeNodes(
    shapes.map((s) => ({ ...s, pinned: cfg.nodes[s.name]?.proxmoxNode })),
    cfg.hosts.length > 0 ? cfg.hosts.map((h) => h.name) : [cfg.proxmox.node],
  );
  return shapes.map((shape, index) => {
    const override = cfg.nodes[shape.name] ?? {};
    const size = defaultSize(shape);
    const plan: NodePlan = {
      name: shape.name,
      role: shape.role,
      vmid: override.vmid ?? cfg.vmidBase + index,
      ip: override.ip ?? hostAddress(cidr, cfg.network.firstHost + index),
      cidrPrefix: cidr.prefix,
      gateway: cfg.network.gateway,
      cores: override.cores ?? size.cores,
      memoryMb: override.memoryMb ?? size.memoryMb,
      diskGb: override.diskGb ?? size.diskGb,
      proxmoxNode: hosts[index],
      startOrder: START_ORDER[shape.role],
    };
    if (shape.kafkaRoles) {
      plan.kafkaRoles = shape.kafkaRoles;
      plan.kafkaNodeId = shape.kafkaNodeId;
    }
    return plan;
  });
}

export function nodesByRole(plans: readonly NodePlan[], role: NodeRole): NodePlan[] {
  return plans.filter((p) => p.role === role);
}

export function nodeNamed(plans: readonly NodePlan[], name: string): NodePlan {
  const plan = plans.find((p) => p.name === name);
  if (!plan) throw new Error(`no node named "${name}" in the plan`);
  return plan;
}

/** The LB nodes (role "nginx") in plan order: lb, then lb2 with lbReplicas 2. */
export function lbNodes(plans: readonly NodePlan[]): NodePlan[] {
  const lbs = nodesByRole(plans, "nginx");
  if (lbs.length === 0) throw new Error(`no load balancer (role "nginx") in the plan`);
  return lbs;
}

/**
 * The nodes the stack has exactly one of, which components and outputs wire by name (the LBs
 * are one or two: lbNodes).
 */
export interface SingleNodes {
  pgPrimary: NodePlan;
  pgStandby: NodePlan;
  pgProxy: NodePlan;
  monitor: NodePlan;
}

export function singleNodes(plans: readonly NodePlan[]): SingleNodes {
  return {
    pgPrimary: nodeNamed(plans, PG_PRIMARY_NAME),
    pgStandby: nodeNamed(plans, PG_STANDBY_NAME),
    pgProxy: nodeNamed(plans, HAPROXY_NAME),
    monitor: nodeNamed(plans, MONITOR_NAME),
  };
}

import { PATRONI_UNIT } from "../../../components/render/patroni";
import { PG_MAJOR } from "../../../components/render/postgres";
import { kafkaBrokers, kafkaNodes, type StackNode, type StackOutputs } from "../outputs";

export type HardFaultKind = "sigkill" | "link-down";

/** What a faulted node is to the stack; decides the probe of "serving again" and the bars. */
export type FaultLayer =
  | "lb"
  | "app"
  | "pg-primary"
  | "pg-standby"
  | "haproxy"
  | "kafka-broker"
  | "kafka-controller"
  | "monitor";

export interface HardFaultSpec {
  /** file-name friendly, e.g. `kill-kafka1`, `link-pg1` */
  id: string;
  kind: HardFaultKind;
  layer: FaultLayer;
  node: StackNode;
  /** the systemd unit of the layer's service on that node */
  unit: string;
}

/** The main service of each node role, as the payloads install it (Debian's units and ours). */
export const UNIT_BY_ROLE: Readonly<Record<string, string>> = {
  nginx: "nginx.service",
  app: "pve-ha-app.service",
  "pg-primary": `postgresql@${PG_MAJOR}-main.service`,
  "pg-standby": `postgresql@${PG_MAJOR}-main.service`,
  haproxy: "haproxy.service",
  kafka: "kafka.service",
  monitor: "prometheus.service",
};

const LAYER_BY_ROLE: Readonly<Record<string, FaultLayer>> = {
  nginx: "lb",
  app: "app",
  "pg-primary": "pg-primary",
  "pg-standby": "pg-standby",
  haproxy: "haproxy",
  monitor: "monitor",
};

/** Role order of the plan: front to back along the write path, the monitor last. */
const ROLE_ORDER = ["nginx", "app", "pg-primary", "pg-standby", "haproxy", "kafka", "monitor"];

export function layerOf(outputs: StackOutputs, node: StackNode): FaultLayer {
  if (node.role !== "kafka") {
    const layer = LAYER_BY_ROLE[node.role];
    if (!layer) throw new Error(`node ${node.name}: no fault layer for role ${node.role}`);
    return layer;
  }
  return kafkaBrokers(outputs).some((b) => b.vmid === node.vmid)
    ? "kafka-broker"
    : "kafka-controller";
}

/**
 * The hard-fault family of a stack, from its outputs: a SIGKILL of the main process and a link
 * down for every node, in role order (VMID order within a role), SIGKILL before link down.
 */
export function hardFaultPlans(outputs: StackOutputs): HardFaultSpec[] {
  const kafkaOrder = new Map(kafkaNodes(outputs).map((n, i) => [n.vmid, i]));
  const rank = (n: StackNode): number => {
    const r = ROLE_ORDER.indexOf(n.role);
    return r < 0 ? ROLE_ORDER.length : r;
  };
  const nodes = [...outputs.nodes].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (kafkaOrder.get(a.vmid) ?? 0) - (kafkaOrder.get(b.vmid) ?? 0) ||
      a.vmid - b.vmid,
  );
  const out: HardFaultSpec[] = [];
  for (const node of nodes) {
    // pgFailover auto: Patroni owns the postmaster (its unit's main process is Patroni).
    const unit =
      outputs.pgFailover.mode === "auto" && /^pg-/.test(node.role)
        ? PATRONI_UNIT
        : UNIT_BY_ROLE[node.role];
    if (!unit) throw new Error(`node ${node.name}: no service unit known for role ${node.role}`);
    const layer = layerOf(outputs, node);
    out.push({ id: `kill-${node.name}`, kind: "sigkill", layer, node, unit });
    out.push({ id: `link-${node.name}`, kind: "link-down", layer, node, unit });
  }
  return out;
}

/** Which bars a fault is held to beyond the ones every fault has (see conditions.ts). */
export interface FaultBars {
  /** <= FAULT_BOUNDS.maxFailedPct failed and no-ack gap <= maxNoAckGapS (broker, app node) */
  absorbed: boolean;
  /** consumer pause <= maxConsumerPauseS (Kafka broker) */
  consumerPause: boolean;
  /** not a single failed request (the monitor is off the write path) */
  noFailure: boolean;
  /** PG primary: writes through HAProxy resume within a bound, never two writable nodes */
  pgPrimary: boolean;
}

export function faultBars(layer: FaultLayer): FaultBars {
  return {
    absorbed: layer === "kafka-broker" || layer === "app",
    consumerPause: layer === "kafka-broker",
    noFailure: layer === "monitor",
    pgPrimary: layer === "pg-primary",
  };
}

/**
 * The faults `--hard-faults` selects: by id (kill-kafka1, link-lb) or node name (both faults);
 * everything when the list is empty. Throws on a name that matches no fault.
 */
export function hardFaultFilter(
  outputs: StackOutputs,
  names: readonly string[],
): (spec: HardFaultSpec) => boolean {
  if (names.length === 0) return () => true;
  const plans = hardFaultPlans(outputs);
  const unknown = names.filter((n) => !plans.some((p) => p.id === n || p.node.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `--hard-faults: no fault named ${unknown.join(", ")} (faults: ${plans.map((p) => p.id).join(", ")})`,
    );
  }
  return (spec) => names.includes(spec.id) || names.includes(spec.node.name);
}

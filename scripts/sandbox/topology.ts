/** What the status checks need to know about the deployed stack, read from its outputs. */
import {
  endpointPort,
  type StackEndpoints,
  type StackSettings,
} from "../../components/config/endpoints";

export interface NodeRef {
  readonly name: string;
  readonly vmid: number;
  readonly ip: string;
  readonly role: string;
}

export interface Topology {
  readonly nodes: NodeRef[];
  readonly appNodes: NodeRef[];
  readonly lbUrl: string;
  /** The PostgreSQL nodes; which one is the primary is asked at run time (pgRoles in checks.ts). */
  readonly pgNodes: NodeRef[];
  readonly pgDatabase: string;
  /** The PostgreSQL port (the pgPrimary output's). */
  readonly pgPort: number;
  readonly kafkaBrokers: NodeRef[];
  readonly kafkaBootstrap: string;
  readonly kafkaVoterIds: number[];
  readonly kafkaTopic: string;
  readonly kafkaReplicationFactor: number;
  readonly prometheusUrl: string;
}

interface EndpointNode {
  vmid: number;
  ip: string;
  role: string;
  kafkaRoles?: string[];
}

/** The stack outputs the checks read (a subset of components/config/endpoints.ts StackEndpoints). */
export type StackOutputs = Pick<
  StackEndpoints,
  "lbUrl" | "kafkaBootstrapServers" | "kafkaTopic" | "prometheusUrl" | "settings" | "pgPrimary"
> & { nodes: Record<string, EndpointNode> };

function requireField(outputs: Record<string, unknown>, key: keyof StackOutputs): unknown {
  if (outputs[key] === undefined) throw new Error(`stack output ${key} is missing`);
  return outputs[key];
}

function pgNodes(nodes: NodeRef[]): NodeRef[] {
  const pg = nodes.filter((n) => n.role === "pg-primary" || n.role === "pg-standby");
  if (pg.length < 2) throw new Error(`expected two PostgreSQL nodes, found ${pg.length}`);
  return pg;
}

function nodeOrder(a: NodeRef, b: NodeRef): number {
  return a.name.localeCompare(b.name, "en", { numeric: true });
}

/** Kafka node ids are 1-based in node order (see NodePlan.kafkaNodeId); voters are the controllers. */
export function topologyFromOutputs(outputs: Record<string, unknown>): Topology {
  const settings = requireField(outputs, "settings") as StackSettings;
  const raw = requireField(outputs, "nodes") as Record<string, EndpointNode>;
  const nodes = Object.entries(raw)
    .map(([name, n]) => ({ name, vmid: Number(n.vmid), ip: String(n.ip), role: String(n.role) }))
    .sort(nodeOrder);
  const kafka = nodes.filter((n) => n.role === "kafka");
  const rolesOf = (n: NodeRef) => raw[n.name].kafkaRoles ?? [];
  return {
    nodes,
    appNodes: nodes.filter((n) => n.role === "app"),
    lbUrl: String(requireField(outputs, "lbUrl")),
    pgNodes: pgNodes(nodes),
    pgDatabase: settings.pgDatabase,
    pgPort: endpointPort(String(requireField(outputs, "pgPrimary"))),
    kafkaBrokers: kafka.filter((n) => rolesOf(n).includes("broker")),
    kafkaBootstrap: String(requireField(outputs, "kafkaBootstrapServers")),
    kafkaVoterIds: kafka.flatMap((n, i) => (rolesOf(n).includes("controller") ? [i + 1] : [])),
    kafkaTopic: String(requireField(outputs, "kafkaTopic")),
    kafkaReplicationFactor: settings.kafkaReplicationFactor,
    prometheusUrl: String(requireField(outputs, "prometheusUrl")),
  };
}

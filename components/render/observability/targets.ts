import { PORTS } from "../../config/ports";
import { METRICS_PORTS } from "./ports";

/** Service kinds a node runs, as far as monitoring cares (mapped from the stack's NodePlan). */
export type ObservedService =
  "nginx" | "app" | "postgres" | "haproxy" | "kafka-broker" | "kafka-controller" | "monitor";

/** One container of the stack, as Prometheus sees it. */
export interface ObservedNode {
  name: string;
  /** The node's role label (the NodePlan role, e.g. "pg-primary"). */
  role: string;
  vmid: number;
  ip: string;
  services: ObservedService[];
}

export type ScrapeJobName =
  | "node"
  | "nginx"
  | "app"
  | "haproxy"
  | "postgres"
  | "patroni"
  | "kafka-jmx"
  | "kafka"
  | "prometheus"
  | "alertmanager"
  | "grafana";

export interface ScrapeTarget {
  address: string;
  labels: Record<string, string>;
}

export interface ScrapeJob {
  name: ScrapeJobName;
  metricsPath: string;
  targets: ScrapeTarget[];
}

export interface ScrapePlanOptions {
  /** Grafana's own /metrics is scraped only where Grafana is installed. */
  grafana: boolean;
  /** kafka_exporter runs on the monitor node (it needs its artifact). */
  kafkaExporter: boolean;
  /** The app nodes' HTTP port (the appPort setting). */
  appPort: number;
  /** pgFailover auto: Patroni's /metrics on its REST API on each PostgreSQL node. */
  patroni?: boolean;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const NODE_NAME = /^[a-z0-9][a-z0-9-]*$/;

function labelsOf(node: ObservedNode): Record<string, string> {
  return { node: node.name, role: node.role, vmid: String(node.vmid) };
}

function target(node: ObservedNode, port: number, extra: Record<string, string> = {}) {
  return { address: `${node.ip}:${port}`, labels: { ...labelsOf(node), ...extra } };
}

function validateNodes(nodes: ObservedNode[]): void {
  const names = new Set<string>();
  for (const node of nodes) {
    if (!NODE_NAME.test(node.name)) {
      throw new Error(`observability: node name must match ${NODE_NAME} (got "${node.name}")`);
    }
    if (names.has(node.name)) throw new Error(`observability: duplicate node "${node.name}"`);
    names.add(node.name);
    if (!IPV4.test(node.ip)) {
      throw new Error(`observability: node ${node.name} ip must be IPv4 (got "${node.ip}")`);
    }
    if (!Number.isInteger(node.vmid) || node.vmid < 100) {
      throw new Error(`observability: node ${node.name} vmid must be >= 100 (got ${node.vmid})`);
    }
  }
}

/** The single node running Prometheus, Alertmanager, Grafana and kafka_exporter. */
export function monitorNode(nodes: ObservedNode[]): ObservedNode {
  const monitors = nodes.filter((n) => n.services.includes("monitor"));
  if (monitors.length !== 1) {
    throw new Error(
      `observability: exactly one monitor node is required (got ${monitors.length}: ` +
        `[${monitors.map((n) => n.name).join(", ")}])`,
    );
  }
  return monitors[0];
}

function having(nodes: ObservedNode[], ...services: ObservedService[]): ObservedNode[] {
  return nodes.filter((n) => services.some((s) => n.services.includes(s)));
}

function kafkaLabels(node: ObservedNode): Record<string, string> {
  return {
    kafka_broker: String(node.services.includes("kafka-broker")),
    kafka_controller: String(node.services.includes("kafka-controller")),
  };
}

/** Every scrape job with its targets, derived from the node list alone. */
export function planScrapeJobs(nodes: ObservedNode[], opts: ScrapePlanOptions): ScrapeJob[] {
  validateNodes(nodes);
  const monitor = monitorNode(nodes);
  const P = METRICS_PORTS;
  const jobs: ScrapeJob[] = [
    { name: "node", metricsPath: "/metrics", targets: nodes.map((n) => target(n, P.nodeExporter)) },
    {
      name: "nginx",
      metricsPath: "/metrics",
      targets: having(nodes, "nginx").map((n) => target(n, P.nginxExporter)),
    },
    {
      name: "app",
      metricsPath: "/metrics",
      targets: having(nodes, "app").map((n) => target(n, opts.appPort)),
    },
    {
      name: "haproxy",
      metricsPath: "/metrics",
      targets: having(nodes, "haproxy").map((n) => target(n, P.haproxy)),
    },
    {
      name: "postgres",
      metricsPath: "/metrics",
      targets: having(nodes, "postgres").map((n) => target(n, P.postgresExporter)),
    },
    {
      name: "patroni",
      metricsPath: "/metrics",
      targets: opts.patroni
        ? having(nodes, "postgres").map((n) => target(n, PORTS.patroniRestApi))
        : [],
    },
    {
      name: "kafka-jmx",
      metricsPath: "/metrics",
      targets: having(nodes, "kafka-broker", "kafka-controller").map((n) =>
        target(n, P.jmxAgent, kafkaLabels(n)),
      ),
    },
    {
      name: "kafka",
      metricsPath: "/metrics",
      targets: opts.kafkaExporter ? [target(monitor, P.kafkaExporter)] : [],
    },
    { name: "prometheus", metricsPath: "/metrics", targets: [target(monitor, P.prometheus)] },
    { name: "alertmanager", metricsPath: "/metrics", targets: [target(monitor, P.alertmanager)] },
  ];
  if (opts.grafana) {
    jobs.push({ name: "grafana", metricsPath: "/metrics", targets: [target(monitor, P.grafana)] });
  }
  return jobs.filter((job) => job.targets.length > 0);
}

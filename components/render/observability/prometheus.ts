import { PORTS } from "../../config/ports";
import { stringify } from "yaml";
import type { NodePlan } from "../../config/types";
import { observedNodes } from "./nodes";
import { METRICS_PORTS } from "./ports";
import { monitorNode, planScrapeJobs, type ScrapeJob } from "./targets";

export const PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml";
export const PROMETHEUS_RULES_DIR = "/etc/prometheus/rules";
export const PROMETHEUS_RULES_FILE = `${PROMETHEUS_RULES_DIR}/pve-ha.rules.yml`;

export interface PrometheusOptions {
  /** Prometheus duration, e.g. "15s". */
  scrapeInterval: string;
  scrapeTimeout: string;
  evaluationInterval: string;
  /** Scrape Grafana's own /metrics (only where Grafana is installed). */
  grafana: boolean;
  /** Scrape kafka_exporter on the monitor node (only where it is installed). */
  kafkaExporter: boolean;
  /** The app nodes' HTTP port (the appPort setting). */
  appPort: number;
  /** pgFailover auto: scrape Patroni on the PostgreSQL nodes. */
  patroni?: boolean;
  ruleFiles?: string[];
}

export const DEFAULT_PROMETHEUS_OPTIONS: PrometheusOptions = {
  scrapeInterval: "15s",
  scrapeTimeout: "10s",
  evaluationInterval: "15s",
  grafana: true,
  kafkaExporter: true,
  appPort: PORTS.app,
};

/** Options from the stack's scrape interval: timeout 10 s, or the interval when shorter. */
export function prometheusOptionsFor(
  scrapeIntervalSeconds: number,
  installed: Pick<PrometheusOptions, "grafana" | "kafkaExporter" | "appPort" | "patroni">,
): PrometheusOptions {
  if (!Number.isInteger(scrapeIntervalSeconds) || scrapeIntervalSeconds < 1) {
    throw new Error(
      `prometheus: scrapeIntervalSeconds must be an integer >= 1 (got ${scrapeIntervalSeconds})`,
    );
  }
  const interval = `${scrapeIntervalSeconds}s`;
  return {
    scrapeInterval: interval,
    scrapeTimeout: `${Math.min(10, scrapeIntervalSeconds)}s`,
    evaluationInterval: interval,
    ...installed,
  };
}

const DURATION = /^([1-9]\d*)(ms|s|m|h)$/;

/** Milliseconds of a simple Prometheus duration such as "15s"; throws naming the bad value. */
export function durationMs(field: string, value: string): number {
  const m = DURATION.exec(value);
  if (!m) throw new Error(`prometheus: ${field} must be a duration like 15s (got "${value}")`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
}

function scrapeConfig(job: ScrapeJob) {
  return {
    job_name: job.name,
    metrics_path: job.metricsPath,
    static_configs: job.targets.map((t) => ({ targets: [t.address], labels: t.labels })),
  };
}

/** prometheus.yml for the stack: one job per exporter kind, targets from the node list. */
export function renderPrometheusConfig(plans: NodePlan[], opts: PrometheusOptions): string {
  const nodes = observedNodes(plans);
  const interval = durationMs("scrapeInterval", opts.scrapeInterval);
  const timeout = durationMs("scrapeTimeout", opts.scrapeTimeout);
  durationMs("evaluationInterval", opts.evaluationInterval);
  if (timeout > interval) {
    throw new Error(
      `prometheus: scrapeTimeout must not exceed scrapeInterval ` +
        `(got ${opts.scrapeTimeout} > ${opts.scrapeInterval})`,
    );
  }
  const monitor = monitorNode(nodes);
  const config = {
    global: {
      scrape_interval: opts.scrapeInterval,
      scrape_timeout: opts.scrapeTimeout,
      evaluation_interval: opts.evaluationInterval,
      external_labels: { stack: "pve-ha" },
    },
    alerting: {
      alertmanagers: [
        { static_configs: [{ targets: [`${monitor.ip}:${METRICS_PORTS.alertmanager}`] }] },
      ],
    },
    rule_files: opts.ruleFiles ?? [`${PROMETHEUS_RULES_DIR}/*.yml`],
    scrape_configs: planScrapeJobs(nodes, opts).map(scrapeConfig),
  };
  return stringify(config, { lineWidth: 0 });
}

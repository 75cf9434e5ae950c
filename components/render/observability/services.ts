import { renderRestartLines, renderStartLimitLines } from "../restartPolicy";
import { METRICS_PORTS, NGINX_STUB_STATUS_URL } from "./ports";

/**
 * /etc/default files of the Debian exporter/server packages (each unit reads `$ARGS` from its
 * EnvironmentFile) and the unit of kafka_exporter, which Debian does not package.
 */

function defaults(args: string[]): string {
  return `ARGS="${args.join(" ")}"\n`;
}

/**
 * The node_exporter collectors behind every name in EXPORTER_METRICS.node. Only these run: the
 * defaults (Debian's include systemd over D-Bus) cost 4.4 ms of CPU per scrape in an LXC node,
 * these 2.0 ms (CPU time of the exporter over 100 scrapes). pve_ha_* are the stack's own
 * textfiles (vrrpTextfile.ts).
 */
export const NODE_EXPORTER_COLLECTORS: Record<string, string> = {
  node_cpu_: "cpu",
  node_load: "loadavg",
  node_memory_: "meminfo",
  node_filesystem_: "filesystem",
  node_network_: "netdev",
  node_disk_: "diskstats",
  node_pressure_: "pressure",
  node_procs_: "stat",
  node_boot_time_: "stat",
  node_time_: "time",
  pve_ha_: "textfile",
};

/** Where node_exporter reads `*.prom` textfiles (Debian's directory, made by the package). */
export const NODE_EXPORTER_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";

export function renderNodeExporterDefaults(): string {
  const collectors = [...new Set(Object.values(NODE_EXPORTER_COLLECTORS))];
  return defaults([
    `--web.listen-address=:${METRICS_PORTS.nodeExporter}`,
    "--collector.disable-defaults",
    ...collectors.map((c) => `--collector.${c}`),
    `--collector.textfile.directory=${NODE_EXPORTER_TEXTFILE_DIR}`,
  ]);
}

export function renderNginxExporterDefaults(): string {
  return defaults([
    `-nginx.scrape-uri=${NGINX_STUB_STATUS_URL}`,
    // 0.11 exits at start when stub_status is not up yet (e.g. nginx restarting): retry.
    "-nginx.retries=30",
    `-web.listen-address=:${METRICS_PORTS.nginxExporter}`,
  ]);
}

/** Prometheus retention like "15d" (Prometheus duration units). */
export function renderPrometheusDefaults(retention: string): string {
  if (!/^[1-9]\d*(h|d|w|y)$/.test(retention)) {
    throw new Error(`prometheus: retention must be a duration like 15d (got "${retention}")`);
  }
  return defaults([
    `--web.listen-address=:${METRICS_PORTS.prometheus}`,
    `--storage.tsdb.retention.time=${retention}`,
  ]);
}

export function renderAlertmanagerDefaults(): string {
  // An empty cluster.listen-address turns the gossip mesh (:9094) off: one instance only.
  return defaults([
    `--web.listen-address=:${METRICS_PORTS.alertmanager}`,
    "--cluster.listen-address=",
  ]);
}

/**
 * kafka-exporter.service. Kafka 4 refuses the protocol versions older than 2.1 that sarama uses
 * by default, so the client announces a 3.x version.
 */
export function renderKafkaExporterUnit(
  bootstrapServers: string[],
  user = "kafka-exporter",
): string {
  if (bootstrapServers.length === 0) throw new Error("kafka_exporter: no bootstrap servers");
  for (const s of bootstrapServers) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(s)) {
      throw new Error(`kafka_exporter: bootstrap server must be host:port (got "${s}")`);
    }
  }
  const args = [
    "/usr/local/bin/kafka_exporter",
    ...bootstrapServers.map((s) => `--kafka.server=${s}`),
    "--kafka.version=3.6.0",
    `--web.listen-address=:${METRICS_PORTS.kafkaExporter}`,
  ];
  return `[Unit]
Description=Prometheus exporter for Kafka consumer groups and topics
After=network-online.target
Wants=network-online.target
${renderStartLimitLines()}

[Service]
User=${user}
ExecStart=${args.join(" ")}
${renderRestartLines()}

[Install]
WantedBy=multi-user.target
`;
}

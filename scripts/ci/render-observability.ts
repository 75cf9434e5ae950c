/**
 * Renders every observability file of the example stack (Pulumi.dev.yaml) into a directory, laid
 * out for the real tools: `ts-node scripts/ci/render-observability.ts <out-dir>`.
 * Secrets of the example stack are encrypted; placeholders stand in for them (no rendered
 * observability file contains a secret except Grafana's env file, which is not rendered here).
 * The alert rules and dashboards of the other layout (one LB or an LB pair) are checked too.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
  CONFIG_NAMESPACE,
  parseConfig,
  planNodes,
  PROVIDER_KEYS,
  type RawConfig,
} from "../../components/config";
import { renderPayload } from "../../components/render/payload";
import { renderAlertmanagerConfig } from "../../components/render/observability/alertmanager";
import {
  alertRules,
  DEFAULT_ALERT_THRESHOLDS,
  renderAlertRules,
} from "../../components/render/observability/alerts";
import { renderAlertRuleTests } from "../../components/render/observability/alertTests";
import {
  allDashboards,
  renderDashboardJson,
} from "../../components/render/observability/grafana/dashboards";
import {
  renderGrafanaDashboardProvider,
  renderGrafanaDatasource,
} from "../../components/render/observability/grafana/datasource";
import {
  dashboardExpressions,
  renderExpressionCheckRules,
  validateDashboard,
} from "../../components/render/observability/grafana/validate";
import { renderJmxAgentConfig } from "../../components/render/observability/jmx";
import { observedLayout, type ObservedLayout } from "../../components/render/observability/nodes";
import { observabilityPayloadVars } from "../../components/render/observability/payloadVars";
import {
  POSTGRES_EXPORTER_ROLE,
  renderPostgresExporterDefaults,
  renderPostgresExporterQueries,
  renderPostgresExporterRoleSql,
} from "../../components/render/observability/postgresExporter";
import {
  renderAlertmanagerDefaults,
  renderNginxExporterDefaults,
  renderNodeExporterDefaults,
  renderPrometheusDefaults,
} from "../../components/render/observability/services";
import { EXPORTER_METRICS } from "../../components/render/observability/exporterMetrics";
import {
  prometheusOptionsFor,
  renderPrometheusConfig,
} from "../../components/render/observability/prometheus";
import {
  renderVrrpTextfile,
  VRRP_TEXTFILE_PATH,
} from "../../components/render/observability/vrrpTextfile";

const SECRET_PLACEHOLDERS: RawConfig = {
  "proxmoxve:apiToken": "ci@pve!render=placeholder",
  proxmoxSshPrivateKey: "placeholder",
};

function exampleStackRaw(root: string): RawConfig {
  const file = path.join(root, "Pulumi.dev.yaml");
  const doc = parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  const raw: RawConfig = { ...SECRET_PLACEHOLDERS };
  for (const [key, value] of Object.entries(doc.config)) {
    if (value !== null && typeof value === "object" && "secure" in value) continue;
    const prefix = `${CONFIG_NAMESPACE}:`;
    const short = key.startsWith(prefix) ? key.slice(prefix.length) : key;
    if (short === key && !(PROVIDER_KEYS as readonly string[]).includes(key)) continue;
    raw[short] = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return raw;
}

/** "<job> <metric>" per line: what check-exporter-metrics.sh expects each exporter to export. */
function exporterMetricLines(): string {
  return Object.entries(EXPORTER_METRICS)
    .flatMap(([job, names]) => names.map((name) => `${job} ${name}\n`))
    .join("");
}

function write(out: string, rel: string, content: string): void {
  const file = path.join(out, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** A layout's alert rules and their promtool tests, laid out in <dir> as promtool reads them. */
function writeRules(out: string, dir: string, layout: ObservedLayout): void {
  const rules = alertRules(DEFAULT_ALERT_THRESHOLDS, layout);
  write(out, `${dir}/rules/pve-ha.rules.yml`, renderAlertRules(rules));
  write(
    out,
    `${dir}/rules.test.yml`,
    renderAlertRuleTests(rules, DEFAULT_ALERT_THRESHOLDS, "rules/pve-ha.rules.yml"),
  );
}

function main(): void {
  const out = process.argv[2];
  if (!out) throw new Error("usage: render-observability.ts <out-dir>");
  const root = path.resolve(__dirname, "..", "..");
  const { config, errors } = parseConfig(exampleStackRaw(root));
  if (!config) throw new Error(`example stack config is invalid:\n  - ${errors.join("\n  - ")}`);
  const plans = planNodes(config);
  const obs = config.observability;
  const backupMaxAgeHours = config.backup.enabled ? config.backup.maxAgeHours : undefined;
  const patroni = config.pg.failover.mode === "auto";
  const layout = observedLayout(plans, backupMaxAgeHours, patroni);
  // The other LB layout, and backups and Patroni the other way round: every rule is tested in one
  // of them.
  const otherLayout: ObservedLayout = {
    lbPair: !layout.lbPair,
    ...(backupMaxAgeHours === undefined ? { backupMaxAgeHours: 3 } : {}),
    ...(layout.patroni ? {} : { patroni: true }),
  };

  const promOptions = prometheusOptionsFor(obs.scrapeIntervalSeconds, {
    grafana: obs.grafanaEnabled,
    kafkaExporter: true,
    appPort: config.app.port,
    ...(patroni ? { patroni } : {}),
  });
  write(out, "prometheus/prometheus.yml", renderPrometheusConfig(plans, promOptions));
  // The same config with the rule files relative to it, for promtool and a local Prometheus.
  write(
    out,
    "prometheus/prometheus.check.yml",
    renderPrometheusConfig(plans, { ...promOptions, ruleFiles: ["rules/*.yml"] }),
  );
  writeRules(out, "prometheus", layout);
  writeRules(out, "prometheus/other-layout", otherLayout);
  write(out, "alertmanager/alertmanager.yml", renderAlertmanagerConfig({ repeatInterval: "4h" }));
  write(out, "kafka/jmx-exporter.yml", renderJmxAgentConfig());
  write(out, "postgres/exporter-role.sql", renderPostgresExporterRoleSql(POSTGRES_EXPORTER_ROLE));
  write(out, "postgres/exporter-queries.yml", renderPostgresExporterQueries());
  write(out, "defaults/prometheus-node-exporter", renderNodeExporterDefaults());
  write(out, "defaults/prometheus-nginx-exporter", renderNginxExporterDefaults());
  write(
    out,
    "defaults/prometheus-postgres-exporter",
    renderPostgresExporterDefaults(POSTGRES_EXPORTER_ROLE),
  );
  write(out, "defaults/prometheus", renderPrometheusDefaults(obs.prometheusRetention));
  write(out, "defaults/prometheus-alertmanager", renderAlertmanagerDefaults());
  write(out, "exporter-metrics.txt", exporterMetricLines());
  // An LB node's keepalived textfile, for the live check's node_exporter.
  write(
    out,
    `node-exporter-textfile/${path.basename(VRRP_TEXTFILE_PATH)}`,
    renderVrrpTextfile("pve_ha_vip", "MASTER"),
  );
  write(
    out,
    "grafana/provisioning/datasources/pve-ha.yml",
    renderGrafanaDatasource(`${obs.scrapeIntervalSeconds}s`),
  );
  write(out, "grafana/provisioning/dashboards/pve-ha.yml", renderGrafanaDashboardProvider());

  for (const [file, dashboard] of Object.entries(allDashboards(layout))) {
    write(out, `grafana/dashboards/${file}`, renderDashboardJson(dashboard));
  }
  const problems = new Set<string>();
  const exprs = new Set<string>();
  for (const dashboard of [layout, otherLayout].flatMap((l) => Object.values(allDashboards(l)))) {
    validateDashboard(dashboard).forEach((p) => problems.add(p));
    dashboardExpressions(dashboard).forEach((e) => exprs.add(e));
  }
  write(out, "grafana/dashboard-expressions.rules.yml", renderExpressionCheckRules([...exprs]));
  write(
    out,
    "grafana/validation.txt",
    problems.size === 0 ? "ok\n" : `${[...problems].join("\n")}\n`,
  );

  const payloads = observabilityPayloadVars({
    plans,
    settings: obs,
    appPort: config.app.port,
    postgresExporterRole: POSTGRES_EXPORTER_ROLE,
    kafkaExporter: true,
  });
  payloads["obs-grafana"] = {
    ...payloads["obs-grafana"],
    GRAFANA_ENV: "placeholder",
    ADMIN_PASSWORD: "placeholder",
  };
  for (const [name, vars] of Object.entries(payloads)) {
    write(out, `payloads/${name}.sh`, renderPayload(name, { PAYLOAD_NAME: name, ...vars }));
  }
  console.log(`rendered observability files of ${plans.length} nodes into ${out}`);
}

main();

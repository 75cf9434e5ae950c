import type { NodePlan, ObservabilitySettings } from "../../config/types";
import { ALERTMANAGER_CONFIG_PATH, renderAlertmanagerConfig } from "./alertmanager";
import { alertRules, DEFAULT_ALERT_THRESHOLDS, renderAlertRules } from "./alerts";
import {
  GRAFANA_DASHBOARD_PROVIDER_PATH,
  GRAFANA_DASHBOARDS_DIR,
  GRAFANA_DATASOURCE_PATH,
  renderGrafanaDashboardProvider,
  renderGrafanaDatasource,
} from "./grafana/datasource";
import { PORTS } from "../../config/ports";
import { localPsqlVars } from "../postgres";
import { observedLayout } from "./nodes";
import {
  POSTGRES_EXPORTER_QUERIES_PATH,
  renderPostgresExporterDefaults,
  renderPostgresExporterQueries,
  renderPostgresExporterRoleSql,
} from "./postgresExporter";
import { KAFKA_BROKER_PORT_FOR_EXPORTER, METRICS_PORTS, NGINX_STUB_STATUS_PORT } from "./ports";
import {
  PROMETHEUS_CONFIG_PATH,
  PROMETHEUS_RULES_FILE,
  prometheusOptionsFor,
  renderPrometheusConfig,
} from "./prometheus";
import {
  renderAlertmanagerDefaults,
  renderKafkaExporterUnit,
  renderNginxExporterDefaults,
  renderNodeExporterDefaults,
  renderPrometheusDefaults,
} from "./services";

export type Vars = Record<string, string | number>;

export const KAFKA_EXPORTER_ARTIFACT_PATH = "/opt/kafka-exporter/artifact";
export const KAFKA_EXPORTER_USER = "kafka-exporter";
export const GRAFANA_DEB_PATH = "/var/cache/pve-ha/grafana.deb";

export interface ObservabilityInput {
  plans: NodePlan[];
  settings: ObservabilitySettings;
  /** The app nodes' HTTP port (the appPort setting), scraped for the app's metrics. */
  appPort: number;
  /** Database role and OS user of postgres_exporter. */
  postgresExporterRole: string;
  /** Whether kafka_exporter is installed (and scraped); needs at least one broker. */
  kafkaExporter: boolean;
  alertmanagerWebhookUrl?: string;
  /** pgBackupMaxAgeHours when backups are on: the backup alerts are rendered. */
  backupMaxAgeHours?: number;
  /** pgFailover auto: Patroni is scraped and its alerts are rendered. */
  patroni?: boolean;
}

/**
 * The variables of every obs-* payload (scripts/payloads/obs-*.sh), rendered from the stack.
 * Grafana's secret variables (GRAFANA_ENV, ADMIN_PASSWORD) are added by the component.
 */
export function observabilityPayloadVars(input: ObservabilityInput): Record<string, Vars> {
  const { plans, settings } = input;
  const role = input.postgresExporterRole;
  const brokers = plans
    .filter((p) => p.role === "kafka" && (p.kafkaRoles ?? []).includes("broker"))
    .map((p) => `${p.ip}:${KAFKA_BROKER_PORT_FOR_EXPORTER}`);
  return {
    "obs-node-exporter": { NODE_EXPORTER_DEFAULTS: renderNodeExporterDefaults() },
    "obs-nginx-exporter": {
      NGINX_EXPORTER_DEFAULTS: renderNginxExporterDefaults(),
      STUB_STATUS_PORT: NGINX_STUB_STATUS_PORT,
    },
    "obs-postgres-exporter": {
      EXPORTER_ROLE: role,
      ROLE_SQL: renderPostgresExporterRoleSql(role),
      EXPORTER_DEFAULTS: renderPostgresExporterDefaults(role),
      EXPORTER_QUERIES: renderPostgresExporterQueries(),
      QUERIES_PATH: POSTGRES_EXPORTER_QUERIES_PATH,
      ...localPsqlVars(PORTS.postgres),
    },
    "obs-alertmanager": {
      ALERTMANAGER_YML: renderAlertmanagerConfig({
        repeatInterval: "4h",
        webhookUrl: input.alertmanagerWebhookUrl,
      }),
      ALERTMANAGER_DEFAULTS: renderAlertmanagerDefaults(),
      CONFIG_PATH: ALERTMANAGER_CONFIG_PATH,
    },
    "obs-prometheus": {
      PROMETHEUS_YML: renderPrometheusConfig(
        plans,
        prometheusOptionsFor(settings.scrapeIntervalSeconds, {
          grafana: settings.grafanaEnabled,
          kafkaExporter: input.kafkaExporter,
          appPort: input.appPort,
          ...(input.patroni ? { patroni: true } : {}),
        }),
      ),
      RULES_YML: renderAlertRules(
        alertRules(
          DEFAULT_ALERT_THRESHOLDS,
          observedLayout(plans, input.backupMaxAgeHours, input.patroni),
        ),
      ),
      PROMETHEUS_DEFAULTS: renderPrometheusDefaults(settings.prometheusRetention),
      CONFIG_PATH: PROMETHEUS_CONFIG_PATH,
      RULES_PATH: PROMETHEUS_RULES_FILE,
      PORT: String(METRICS_PORTS.prometheus),
    },
    ...(input.kafkaExporter
      ? {
          "obs-kafka-exporter": {
            ARTIFACT_PATH: KAFKA_EXPORTER_ARTIFACT_PATH,
            SERVICE_USER: KAFKA_EXPORTER_USER,
            UNIT_FILE: renderKafkaExporterUnit(brokers, KAFKA_EXPORTER_USER),
          },
        }
      : {}),
    "obs-grafana": {
      DEB_PATH: GRAFANA_DEB_PATH,
      DATASOURCE_YML: renderGrafanaDatasource(`${settings.scrapeIntervalSeconds}s`),
      DATASOURCE_PATH: GRAFANA_DATASOURCE_PATH,
      PROVIDER_YML: renderGrafanaDashboardProvider(),
      PROVIDER_PATH: GRAFANA_DASHBOARD_PROVIDER_PATH,
      DASHBOARDS_DIR: GRAFANA_DASHBOARDS_DIR,
    },
  };
}

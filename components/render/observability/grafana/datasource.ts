import { stringify } from "yaml";
import { METRICS_PORTS } from "../ports";

/** Fixed uid: every dashboard panel refers to the datasource by it. */
export const GRAFANA_DATASOURCE_UID = "pve-ha-prometheus";
export const GRAFANA_DATASOURCE_REF = { type: "prometheus", uid: GRAFANA_DATASOURCE_UID };

export const GRAFANA_PROVISIONING_DIR = "/etc/grafana/provisioning";
export const GRAFANA_DATASOURCE_PATH = `${GRAFANA_PROVISIONING_DIR}/datasources/pve-ha.yml`;
export const GRAFANA_DASHBOARD_PROVIDER_PATH = `${GRAFANA_PROVISIONING_DIR}/dashboards/pve-ha.yml`;
export const GRAFANA_DASHBOARDS_DIR = "/var/lib/grafana/dashboards/pve-ha";

/** Datasource provisioning: Prometheus on the monitor node itself, scraped every 15 s. */
export function renderGrafanaDatasource(scrapeInterval = "15s"): string {
  return stringify(
    {
      apiVersion: 1,
      deleteDatasources: [],
      datasources: [
        {
          name: "Prometheus",
          type: "prometheus",
          uid: GRAFANA_DATASOURCE_UID,
          access: "proxy",
          url: `http://127.0.0.1:${METRICS_PORTS.prometheus}`,
          isDefault: true,
          editable: false,
          jsonData: { timeInterval: scrapeInterval, httpMethod: "POST" },
        },
      ],
    },
    { lineWidth: 0 },
  );
}

/** Dashboard provider: loads every JSON file of GRAFANA_DASHBOARDS_DIR into one folder. */
export function renderGrafanaDashboardProvider(): string {
  return stringify(
    {
      apiVersion: 1,
      providers: [
        {
          name: "pve-ha",
          folder: "pve-ha-stack",
          type: "file",
          disableDeletion: true,
          allowUiUpdates: false,
          updateIntervalSeconds: 60,
          options: { path: GRAFANA_DASHBOARDS_DIR, foldersFromFilesStructure: false },
        },
      ],
    },
    { lineWidth: 0 },
  );
}

/**
 * Environment file for grafana-server (read through a systemd drop-in). Grafana only uses the
 * admin password when it creates its database; the payload resets it on every change.
 */
export function renderGrafanaEnv(adminPassword: string): string {
  if (adminPassword.length < 8 || /[\n\r'"\\$`]/.test(adminPassword)) {
    throw new Error("grafana: admin password must be >= 8 characters without quotes, $, ` or \\");
  }
  return [
    "GF_SECURITY_ADMIN_USER=admin",
    `GF_SECURITY_ADMIN_PASSWORD=${adminPassword}`,
    "GF_ANALYTICS_REPORTING_ENABLED=false",
    "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
    "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES=false",
    "GF_USERS_ALLOW_SIGN_UP=false",
    "",
  ].join("\n");
}

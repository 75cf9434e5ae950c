import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { artifactSource } from "./artifacts";
import type { StackConfig } from "./config/types";
import type { ProxmoxLxcNode } from "./proxmoxLxcNode";
import { allDashboards, renderDashboardJson } from "./render/observability/grafana/dashboards";
import {
  GRAFANA_DASHBOARDS_DIR,
  renderGrafanaEnv,
} from "./render/observability/grafana/datasource";
import { observedLayout } from "./render/observability/nodes";
import {
  GRAFANA_DEB_PATH,
  KAFKA_EXPORTER_ARTIFACT_PATH,
  observabilityPayloadVars,
  type Vars,
} from "./render/observability/payloadVars";
import { METRICS_PORTS } from "./render/observability/ports";
import { POSTGRES_EXPORTER_ROLE } from "./render/observability/postgresExporter";

export const OBSERVABILITY_STACK_TYPE = "pve-ha:observability:Stack";

export interface ObservabilityStackArgs {
  /** Every node of the stack (exactly one with the role "monitor"). */
  nodes: ProxmoxLxcNode[];
  config: Pick<StackConfig, "observability" | "artifacts" | "app" | "backup"> &
    Partial<Pick<StackConfig, "pg">>;
  /**
   * What must run before a node's exporter starts, by node name: nginx serving stub_status on
   * the LB, PostgreSQL on the PG nodes, the brokers (for kafka_exporter), the app on app nodes.
   * Prometheus waits for all of it.
   */
  ready?: Record<string, pulumi.Resource[]>;
  /** Database role and OS user of postgres_exporter (default "exporter"). */
  postgresExporterRole?: string;
  /** Optional webhook receiving Alertmanager notifications. */
  alertmanagerWebhookUrl?: string;
}

/**
 * Exporters on every node, and Prometheus, Alertmanager, kafka_exporter and (by config) Grafana
 * on the monitor node, all rendered from the node list. Prometheus starts after the exporters.
 */
export class ObservabilityStack extends pulumi.ComponentResource {
  readonly prometheusUrl: pulumi.Output<string>;
  readonly alertmanagerUrl: pulumi.Output<string>;
  /** Empty when Grafana is not installed. */
  readonly grafanaUrl: pulumi.Output<string>;
  readonly grafanaAdminPassword: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super(OBSERVABILITY_STACK_TYPE, name, {}, opts);
    const settings = args.config.observability;
    const plans = args.nodes.map((n) => n.plan);
    const monitors = args.nodes.filter((n) => n.plan.role === "monitor");
    if (monitors.length !== 1) {
      throw new Error(
        `observability: exactly one monitor node is required (got ${monitors.length})`,
      );
    }
    const monitor = monitors[0];
    const exporterSource = artifactSource(args.config, "kafkaExporter");
    const kafkaExporter = settings.kafkaExporterEnabled;
    const vars = observabilityPayloadVars({
      plans,
      settings,
      appPort: args.config.app.port,
      postgresExporterRole: args.postgresExporterRole ?? POSTGRES_EXPORTER_ROLE,
      alertmanagerWebhookUrl: args.alertmanagerWebhookUrl,
      kafkaExporter,
      backupMaxAgeHours: args.config.backup.enabled ? args.config.backup.maxAgeHours : undefined,
      patroni: args.config.pg?.failover.mode === "auto",
    });
    const ready = (node: string): pulumi.Resource[] => args.ready?.[node] ?? [];
    const run = (node: ProxmoxLxcNode, payload: string, dependsOn: pulumi.Resource[]) =>
      node.runPayload(payload, { payload, vars: vars[payload] }, { parent: this, dependsOn });

    const exporters: command.remote.Command[] = [];
    for (const node of args.nodes) {
      exporters.push(run(node, "obs-node-exporter", ready(node.plan.name)));
      if (node.plan.role === "nginx") {
        exporters.push(run(node, "obs-nginx-exporter", ready(node.plan.name)));
      }
    }
    // The primary creates the exporter's role; the standby's exporter comes after it.
    const pgExporters: command.remote.Command[] = [];
    for (const pgRole of ["pg-primary", "pg-standby"]) {
      for (const node of args.nodes.filter((n) => n.plan.role === pgRole)) {
        const deps = [...ready(node.plan.name), ...pgExporters];
        pgExporters.push(run(node, "obs-postgres-exporter", deps));
      }
    }
    exporters.push(...pgExporters);

    if (kafkaExporter) {
      const kafkaReady = plans.filter((p) => p.role === "kafka").flatMap((p) => ready(p.name));
      const exporterBinary = monitor.pushArtifact(
        "kafka-exporter-artifact",
        { artifact: exporterSource, dest: KAFKA_EXPORTER_ARTIFACT_PATH, mode: "0755" },
        { parent: this },
      );
      exporters.push(run(monitor, "obs-kafka-exporter", [exporterBinary, ...kafkaReady]));
    }

    const alertmanager = run(monitor, "obs-alertmanager", ready(monitor.plan.name));
    const everyTarget = plans.flatMap((p) => ready(p.name));
    const prometheus = run(monitor, "obs-prometheus", [...exporters, alertmanager, ...everyTarget]);

    const password = new random.RandomPassword(
      `${name}-grafana-admin`,
      { length: 24, special: false },
      { parent: this },
    );
    this.grafanaAdminPassword = pulumi.secret(password.result);
    if (settings.grafanaEnabled) {
      this.installGrafana(
        monitor,
        vars["obs-grafana"],
        this.grafanaAdminPassword,
        args,
        prometheus,
      );
    }

    const base = `http://${monitor.plan.ip}`;
    this.prometheusUrl = pulumi.output(`${base}:${METRICS_PORTS.prometheus}`);
    this.alertmanagerUrl = pulumi.output(`${base}:${METRICS_PORTS.alertmanager}`);
    this.grafanaUrl = pulumi.output(
      settings.grafanaEnabled ? `${base}:${METRICS_PORTS.grafana}` : "",
    );
    this.registerOutputs({
      prometheusUrl: this.prometheusUrl,
      alertmanagerUrl: this.alertmanagerUrl,
      grafanaUrl: this.grafanaUrl,
      grafanaAdminPassword: this.grafanaAdminPassword,
    });
  }

  private installGrafana(
    monitor: ProxmoxLxcNode,
    vars: Vars,
    adminPassword: pulumi.Output<string>,
    args: ObservabilityStackArgs,
    prometheus: command.remote.Command,
  ): void {
    const deb = monitor.pushArtifact(
      "grafana-artifact",
      { artifact: artifactSource(args.config, "grafana"), dest: GRAFANA_DEB_PATH },
      { parent: this },
    );
    const server = monitor.runPayload(
      "obs-grafana",
      {
        payload: "obs-grafana",
        secret: true,
        vars: {
          ...vars,
          GRAFANA_ENV: adminPassword.apply(renderGrafanaEnv),
          ADMIN_PASSWORD: adminPassword,
        },
      },
      { parent: this, dependsOn: [deb, prometheus] },
    );
    const layout = observedLayout(
      args.nodes.map((n) => n.plan),
      undefined,
      args.config.pg?.failover.mode === "auto",
    );
    for (const [file, dashboard] of Object.entries(allDashboards(layout))) {
      monitor.pushFile(
        `grafana-dashboard-${file.replace(/\.json$/, "")}`,
        {
          path: `${GRAFANA_DASHBOARDS_DIR}/${file}`,
          content: renderDashboardJson(dashboard),
          mode: "0644",
          owner: "root:root",
        },
        { parent: this, dependsOn: [server] },
      );
    }
  }
}

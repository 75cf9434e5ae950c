import { strict as assert } from "assert";
import { parse } from "yaml";
import { parseConfig, planNodes, type NodePlan } from "../../components/config";
import { renderAlertmanagerConfig } from "../../components/render/observability/alertmanager";
import {
  alertRules,
  DEFAULT_ALERT_THRESHOLDS,
  renderAlertRules,
} from "../../components/render/observability/alerts";
import {
  expandLabels,
  renderAlertRuleTests,
} from "../../components/render/observability/alertTests";
import { EXPORTER_METRICS } from "../../components/render/observability/exporterMetrics";
import { renderJmxAgentConfig } from "../../components/render/observability/jmx";
import { SINGLE_LB_LAYOUT } from "../../components/render/observability/nodes";
import {
  renderPostgresExporterDefaults,
  renderPostgresExporterQueries,
  renderPostgresExporterRoleSql,
} from "../../components/render/observability/postgresExporter";
import {
  DEFAULT_PROMETHEUS_OPTIONS,
  prometheusOptionsFor,
  renderPrometheusConfig,
} from "../../components/render/observability/prometheus";
import {
  renderAlertmanagerDefaults,
  renderKafkaExporterUnit,
  renderNginxExporterDefaults,
  NODE_EXPORTER_COLLECTORS,
  renderNodeExporterDefaults,
  renderPrometheusDefaults,
} from "../../components/render/observability/services";

interface StaticConfig {
  targets: string[];
  labels: Record<string, string>;
}
interface ScrapeConfig {
  job_name: string;
  static_configs: StaticConfig[];
}

function examplePlans(extra: Record<string, unknown> = {}): NodePlan[] {
  const { config, errors } = parseConfig({
    "proxmoxve:endpoint": "https://pve.example.internal:8006/",
    "proxmoxve:apiToken": "user@pve!token=secret",
    proxmoxSshPrivateKey: "key",
    networkCidr: "192.168.100.0/24",
    networkGateway: "192.168.100.1",
    ...extra,
  });
  assert.deepEqual(errors, []);
  return planNodes(config!);
}

function jobs(plans: NodePlan[]): Map<string, StaticConfig[]> {
  const doc = parse(renderPrometheusConfig(plans, DEFAULT_PROMETHEUS_OPTIONS)) as {
    scrape_configs: ScrapeConfig[];
  };
  return new Map(doc.scrape_configs.map((j) => [j.job_name, j.static_configs]));
}

describe("observability: prometheus.yml", () => {
  it("derives every job's targets from the node plan, with node/role/vmid labels", () => {
    const plans = examplePlans();
    const byJob = jobs(plans);
    const targets = (job: string) => byJob.get(job)!.flatMap((s) => s.targets);
    assert.deepEqual(
      [...byJob.keys()],
      [
        "node",
        "nginx",
        "app",
        "haproxy",
        "postgres",
        "kafka-jmx",
        "kafka",
        "prometheus",
        "alertmanager",
        "grafana",
      ],
    );
    // every node, however many LB nodes the default layout has
    assert.deepEqual(
      targets("node"),
      plans.map((p) => `${p.ip}:9100`),
    );
    assert.deepEqual(targets("app"), ["192.168.100.11:3000", "192.168.100.12:3000"]);
    assert.deepEqual(targets("postgres"), ["192.168.100.13:9187", "192.168.100.14:9187"]);
    assert.deepEqual(targets("haproxy"), ["192.168.100.15:8404"]);
    assert.deepEqual(targets("kafka"), ["192.168.100.19:9308"]);
    assert.deepEqual(
      byJob
        .get("kafka-jmx")!
        .map((s) => [s.targets[0], s.labels.kafka_broker, s.labels.kafka_controller]),
      [
        ["192.168.100.16:7071", "true", "true"],
        ["192.168.100.17:7071", "true", "true"],
        ["192.168.100.18:7071", "false", "true"],
      ],
    );
    assert.deepEqual(byJob.get("postgres")![1].labels, {
      node: "pg2",
      role: "pg-standby",
      vmid: "204",
    });
  });

  it("follows the config: more app replicas, more app targets, the app port; no Grafana/kafka_exporter, no job", () => {
    const plans = examplePlans({ appReplicas: 3 });
    const doc = parse(
      renderPrometheusConfig(
        plans,
        prometheusOptionsFor(30, { grafana: false, kafkaExporter: false, appPort: 8080 }),
      ),
    ) as {
      global: Record<string, string>;
      scrape_configs: ScrapeConfig[];
    };
    const names = doc.scrape_configs.map((j) => j.job_name);
    assert.ok(!names.includes("grafana"));
    assert.ok(!names.includes("kafka"));
    const app = doc.scrape_configs.find((j) => j.job_name === "app")!;
    assert.deepEqual(
      app.static_configs.map((s) => s.labels.node),
      ["webserver1", "webserver2", "webserver3"],
    );
    assert.ok(app.static_configs.every((s) => s.targets[0].endsWith(":8080")));
    assert.equal(doc.global.scrape_interval, "30s");
    assert.equal(doc.global.scrape_timeout, "10s");
  });

  it("sends alerts to the monitor's Alertmanager and loads the rules directory", () => {
    const doc = parse(renderPrometheusConfig(examplePlans(), DEFAULT_PROMETHEUS_OPTIONS)) as {
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      rule_files: string[];
    };
    assert.deepEqual(doc.alerting.alertmanagers[0].static_configs[0].targets, [
      "192.168.100.19:9093",
    ]);
    assert.deepEqual(doc.rule_files, ["/etc/prometheus/rules/*.yml"]);
  });

  it("rejects bad options and node lists, naming the bad value", () => {
    const plans = examplePlans();
    assert.throws(
      () =>
        renderPrometheusConfig(plans, { ...DEFAULT_PROMETHEUS_OPTIONS, scrapeInterval: "fast" }),
      /scrapeInterval must be a duration like 15s \(got "fast"\)/,
    );
    assert.throws(
      () => renderPrometheusConfig(plans, { ...DEFAULT_PROMETHEUS_OPTIONS, scrapeTimeout: "20s" }),
      /scrapeTimeout must not exceed scrapeInterval \(got 20s > 15s\)/,
    );
    assert.throws(
      () =>
        renderPrometheusConfig(
          plans.filter((p) => p.role !== "monitor"),
          DEFAULT_PROMETHEUS_OPTIONS,
        ),
      /exactly one monitor node is required \(got 0/,
    );
    const badIp = plans.map((p) => (p.name === "pg2" ? { ...p, ip: "10.0.0.300" } : p));
    assert.throws(
      () => renderPrometheusConfig(badIp, DEFAULT_PROMETHEUS_OPTIONS),
      /pg2 ip must be IPv4 \(got "10.0.0.300"\)/,
    );
    assert.throws(
      () => prometheusOptionsFor(0, { grafana: true, kafkaExporter: true, appPort: 3000 }),
      /scrapeIntervalSeconds must be an integer >= 1 \(got 0\)/,
    );
  });
});

describe("observability: alert rules", () => {
  const rules = alertRules(DEFAULT_ALERT_THRESHOLDS, SINGLE_LB_LAYOUT);
  const lbPairRules = alertRules(DEFAULT_ALERT_THRESHOLDS, { lbPair: true });

  it("covers the issue's list of alerts", () => {
    assert.deepEqual(rules.map((r) => r.alert).sort(), [
      "AppConsumerLagHigh",
      "KafkaConsumerLagHigh",
      "KafkaControllerQuorumLost",
      "KafkaOfflinePartitions",
      "KafkaUnderReplicatedPartitions",
      "LbBackendDown",
      "NodeDiskLow",
      "NodeMemoryLow",
      "PgProxyBackendDown",
      "PostgresDown",
      "PostgresPrimaryWithoutStreamingStandby",
      "PostgresReplicationLagHigh",
      "PostgresStandbyNotStreaming",
      "TargetDown",
    ]);
  });

  it("renders thresholds into the expressions", () => {
    const custom = alertRules(
      { ...DEFAULT_ALERT_THRESHOLDS, consumerLag: 7, memoryAvailableRatio: 0.25 },
      SINGLE_LB_LAYOUT,
    );
    const doc = parse(renderAlertRules(custom)) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const expr = (name: string) => doc.groups[0].rules.find((r) => r.alert === name)!.expr;
    assert.match(expr("KafkaConsumerLagHigh"), /kafka_consumergroup_lag\) > 7$/);
    assert.match(expr("NodeMemoryLow"), /< 0.25$/);
  });

  it("rejects thresholds out of range", () => {
    assert.throws(
      () => alertRules({ ...DEFAULT_ALERT_THRESHOLDS, diskAvailableRatio: 1.5 }, SINGLE_LB_LAYOUT),
      /diskAvailableRatio must be a number in \(0, 1\) \(got 1.5\)/,
    );
    assert.throws(
      () => alertRules({ ...DEFAULT_ALERT_THRESHOLDS, consumerLag: -1 }, SINGLE_LB_LAYOUT),
      /consumerLag must be a number > 0 \(got -1\)/,
    );
  });

  it("has a promtool test for every alert that asserts silence and firing", () => {
    const doc = parse(renderAlertRuleTests(lbPairRules, DEFAULT_ALERT_THRESHOLDS, "rules.yml")) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    for (const rule of lbPairRules) {
      const checks = doc.tests
        .flatMap((t) => t.alert_rule_test)
        .filter((c) => c.alertname === rule.alert);
      assert.ok(
        checks.some((c) => c.exp_alerts.length === 0),
        `${rule.alert} quiet case`,
      );
      assert.ok(
        checks.some((c) => c.exp_alerts.length > 0),
        `${rule.alert} firing case`,
      );
    }
    assert.throws(
      () =>
        renderAlertRuleTests(
          [...rules, { ...rules[0], alert: "Untested" }],
          DEFAULT_ALERT_THRESHOLDS,
          "r.yml",
        ),
      /no test case for alert "Untested"/,
    );
  });

  it("expands label templates like Prometheus", () => {
    assert.equal(
      expandLabels("{{ $labels.node }} / {{$labels.job}} {{ $labels.none }}.", {
        node: "pg1",
        job: "postgres",
      }),
      "pg1 / postgres .",
    );
  });
});

describe("observability: alertmanager, exporters, JMX", () => {
  it("renders one receiver, with a webhook only when configured", () => {
    const plain = parse(renderAlertmanagerConfig({ repeatInterval: "4h" })) as {
      receivers: Record<string, unknown>[];
    };
    assert.deepEqual(plain.receivers, [{ name: "default" }]);
    const hook = parse(
      renderAlertmanagerConfig({
        repeatInterval: "1h",
        webhookUrl: "http://127.0.0.1:5001/alerts",
      }),
    ) as { receivers: { webhook_configs: { url: string; send_resolved: boolean }[] }[] };
    assert.deepEqual(hook.receivers[0].webhook_configs, [
      { url: "http://127.0.0.1:5001/alerts", send_resolved: true },
    ]);
    assert.throws(
      () => renderAlertmanagerConfig({ repeatInterval: "4h", webhookUrl: "ftp://x" }),
      /webhookUrl must be http\(s\) \(got "ftp:\/\/x"\)/,
    );
    assert.throws(
      () => renderAlertmanagerConfig({ repeatInterval: "soon" }),
      /repeatInterval must be a duration like 4h \(got "soon"\)/,
    );
  });

  it("gives the postgres exporter role pg_monitor only, idempotently", () => {
    const sql = renderPostgresExporterRoleSql("exporter");
    assert.match(sql, /IF NOT EXISTS \(SELECT FROM pg_roles WHERE rolname = 'exporter'\)/);
    assert.match(
      sql,
      /CREATE ROLE exporter LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;/,
    );
    assert.match(sql, /GRANT pg_monitor TO exporter;/);
    assert.throws(
      () => renderPostgresExporterRoleSql("x; DROP"),
      /role must be a lower-case identifier \(got "x; DROP"\)/,
    );
    assert.match(
      renderPostgresExporterDefaults("exporter"),
      /^DATA_SOURCE_NAME='user=exporter host=\/run\/postgresql dbname=postgres sslmode=disable'$/m,
    );
  });

  it("runs only its own queries, which yield every postgres metric dashboards and alerts read", () => {
    const args = /^ARGS='(.*)'$/m.exec(renderPostgresExporterDefaults("exporter"))?.[1] ?? "";
    for (const flag of [
      "--disable-default-metrics",
      "--disable-settings-metrics",
      "--no-collector.database",
      "--no-collector.bgwriter",
    ]) {
      assert.ok(args.split(" ").includes(flag), `${flag} in ${args}`);
    }
    const queries = parse(renderPostgresExporterQueries()) as Record<
      string,
      { metrics: Record<string, { usage: string }>[] }
    >;
    const names = Object.entries(queries).flatMap(([ns, q]) =>
      q.metrics.flatMap((m) =>
        Object.entries(m)
          .filter(([, v]) => v.usage !== "LABEL")
          .map(([col]) => `${ns}_${col}`),
      ),
    );
    // pg_up is the exporter's own
    for (const used of EXPORTER_METRICS.postgres.filter((n) => n !== "pg_up")) {
      assert.ok(names.includes(used), `${used} in ${names.join(",")}`);
    }
  });

  it("whitelists MBeans and lowercases names in the JMX agent config", () => {
    const doc = parse(renderJmxAgentConfig()) as {
      lowercaseOutputName: boolean;
      includeObjectNames: string[];
      rules: { pattern: string; name: string }[];
    };
    assert.equal(doc.lowercaseOutputName, true);
    assert.ok(
      doc.includeObjectNames.length > 0 && doc.includeObjectNames.every((n) => !n.startsWith("*")),
    );
    for (const rule of doc.rules) assert.match(rule.name, /^[a-z_][a-z0-9_$]*$/, rule.name);
  });

  it("points kafka_exporter at every broker with a protocol Kafka 4 accepts", () => {
    const unit = renderKafkaExporterUnit(["10.0.0.16:9092", "10.0.0.17:9092"]);
    assert.match(
      unit,
      /--kafka.server=10.0.0.16:9092 --kafka.server=10.0.0.17:9092 --kafka.version=3.6.0/,
    );
    assert.throws(
      () => renderKafkaExporterUnit(["kafka1"]),
      /bootstrap server must be host:port \(got "kafka1"\)/,
    );
    assert.throws(
      () => renderPrometheusDefaults("forever"),
      /retention must be a duration like 15d \(got "forever"\)/,
    );
  });

  it("renders the Debian units' ARGS: ports, retention, fast node scrapes, no gossip port", () => {
    assert.equal(
      renderNodeExporterDefaults(),
      'ARGS="--web.listen-address=:9100 --collector.disable-defaults --collector.cpu ' +
        "--collector.loadavg --collector.meminfo --collector.filesystem --collector.netdev " +
        "--collector.diskstats --collector.pressure --collector.stat --collector.time " +
        '--collector.textfile --collector.textfile.directory=/var/lib/prometheus/node-exporter"\n',
    );
    // every node name a dashboard or alert may use comes from an enabled collector
    for (const name of EXPORTER_METRICS.node) {
      const prefix = Object.keys(NODE_EXPORTER_COLLECTORS).find((p) => name.startsWith(p));
      assert.ok(prefix, `no collector for ${name}`);
      assert.ok(
        renderNodeExporterDefaults().includes(`--collector.${NODE_EXPORTER_COLLECTORS[prefix]}`),
      );
    }
    assert.match(
      renderNginxExporterDefaults(),
      /-nginx.scrape-uri=http:\/\/127.0.0.1:8081\/stub_status/,
    );
    assert.match(renderPrometheusDefaults("30d"), /--storage.tsdb.retention.time=30d"/);
    assert.match(renderAlertmanagerDefaults(), /--cluster.listen-address="$/m);
  });
});

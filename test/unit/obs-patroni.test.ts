import { strict as assert } from "assert";
import { parse } from "yaml";
import { parseConfig, planNodes, type NodePlan } from "../../components/config";
import { alertRules, DEFAULT_ALERT_THRESHOLDS } from "../../components/render/observability/alerts";
import { renderAlertRuleTests } from "../../components/render/observability/alertTests";
import { EXPORTER_METRICS } from "../../components/render/observability/exporterMetrics";
import { observedLayout } from "../../components/render/observability/nodes";
import { observabilityPayloadVars } from "../../components/render/observability/payloadVars";
import {
  prometheusOptionsFor,
  renderPrometheusConfig,
} from "../../components/render/observability/prometheus";
import { exampleRaw } from "./program-harness";

interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[]; labels: Record<string, string> }[];
}

function plans(): NodePlan[] {
  const { config, errors } = parseConfig(exampleRaw());
  if (!config) throw new Error(errors.join("\n"));
  return planNodes(config);
}

const PATRONI_ALERTS = [
  "PatroniFailover",
  "PatroniNoLeader",
  "PatroniNoReplica",
  "PatroniReplicaNotStreaming",
];

describe("observability: Patroni (pgFailover auto)", () => {
  const installed = { grafana: false, kafkaExporter: true, appPort: 3000 };

  it("scrapes Patroni's /metrics on 8008 of both PostgreSQL nodes, in auto only", () => {
    const jobs = (patroni: boolean) =>
      (
        parse(
          renderPrometheusConfig(
            plans(),
            prometheusOptionsFor(15, { ...installed, ...(patroni ? { patroni } : {}) }),
          ),
        ) as { scrape_configs: ScrapeConfig[] }
      ).scrape_configs;
    const job = jobs(true).find((j) => j.job_name === "patroni");
    assert.ok(job);
    assert.deepEqual(
      job.static_configs.map((s) => [s.targets[0], s.labels.node]),
      [
        ["192.168.100.13:8008", "pg1"],
        ["192.168.100.14:8008", "pg2"],
      ],
    );
    assert.ok(!jobs(false).some((j) => j.job_name === "patroni"));
  });

  it("renders the Patroni alerts in auto only, each with a promtool case, on 3.0.2's metric names", () => {
    const auto = alertRules(DEFAULT_ALERT_THRESHOLDS, observedLayout(plans(), undefined, true));
    const manual = alertRules(DEFAULT_ALERT_THRESHOLDS, observedLayout(plans()));
    assert.deepEqual(
      auto
        .map((r) => r.alert)
        .filter((a) => a.startsWith("Patroni"))
        .sort(),
      PATRONI_ALERTS,
    );
    assert.ok(!manual.some((r) => r.alert.startsWith("Patroni")));
    assert.deepEqual(observedLayout(plans()), observedLayout(plans(), undefined, false));
    const tests = renderAlertRuleTests(auto, DEFAULT_ALERT_THRESHOLDS, "rules.yml");
    for (const alert of PATRONI_ALERTS) assert.ok(tests.includes(`alertname: ${alert}`), alert);
    const known = new Set([...EXPORTER_METRICS.patroni, ...EXPORTER_METRICS.postgres]);
    for (const rule of auto.filter((r) => r.alert.startsWith("Patroni"))) {
      for (const name of rule.expr.match(/\b(patroni|pg)_[a-z_]+/g) ?? []) {
        assert.ok(known.has(name), `${rule.alert}: ${name}`);
      }
    }
  });

  it("puts the job and the alerts into the obs-prometheus payload's variables in auto only", () => {
    const vars = (patroni: boolean) =>
      observabilityPayloadVars({
        plans: plans(),
        settings: {
          grafanaEnabled: false,
          kafkaExporterEnabled: true,
          prometheusRetention: "15d",
          scrapeIntervalSeconds: 15,
        },
        appPort: 3000,
        postgresExporterRole: "exporter",
        kafkaExporter: true,
        patroni,
      })["obs-prometheus"];
    assert.match(String(vars(true).PROMETHEUS_YML), /job_name: patroni/);
    assert.match(String(vars(true).RULES_YML), /alert: PatroniNoLeader/);
    assert.doesNotMatch(String(vars(false).PROMETHEUS_YML), /patroni/);
    assert.doesNotMatch(String(vars(false).RULES_YML), /Patroni/);
  });
});

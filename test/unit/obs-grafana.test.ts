import { strict as assert } from "assert";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { parse } from "yaml";
import { alertRules, DEFAULT_ALERT_THRESHOLDS } from "../../components/render/observability/alerts";
import {
  EXPORTER_METRICS,
  knownMetricNames,
} from "../../components/render/observability/exporterMetrics";
import {
  allDashboards,
  overviewDashboard,
  postgresDashboard,
  renderDashboardJson,
} from "../../components/render/observability/grafana/dashboards";
import {
  GRAFANA_DATASOURCE_UID,
  renderGrafanaDashboardProvider,
  renderGrafanaDatasource,
  renderGrafanaEnv,
} from "../../components/render/observability/grafana/datasource";
import { timeSeries } from "../../components/render/observability/grafana/panels";
import {
  dashboardExpressions,
  renderExpressionCheckRules,
  validateDashboard,
} from "../../components/render/observability/grafana/validate";
import { metricNames } from "../../components/render/observability/promql";

describe("observability: PromQL metric names", () => {
  it("finds selectors and ignores functions, labels, grouping, durations and keywords", () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le, node) (rate(http_request_duration_seconds_bucket{job="app",le!="x"}[$__rate_interval])))',
      ),
      ["http_request_duration_seconds_bucket"],
    );
    assert.deepEqual(
      metricNames(
        '100 * node_load1 / on(node) group_left count by (node) (node_cpu_seconds_total{mode="idle"} offset 5m)',
      ),
      ["node_cpu_seconds_total", "node_load1"],
    );
    assert.deepEqual(
      metricNames("pg_replica_is_replica == 0 unless on(instance) up or vector(1e3)"),
      ["pg_replica_is_replica", "up"],
    );
  });

  it("knows every metric the alert rules use", () => {
    const known = knownMetricNames();
    for (const rule of alertRules(DEFAULT_ALERT_THRESHOLDS, { lbPair: true })) {
      for (const name of metricNames(rule.expr))
        assert.ok(known.has(name), `${rule.alert}: ${name}`);
    }
  });

  it("lists each metric under one exporter only", () => {
    const seen = new Map<string, string>();
    for (const [job, names] of Object.entries(EXPORTER_METRICS)) {
      for (const name of names) {
        assert.ok(!seen.has(name), `${name} listed by ${seen.get(name)} and ${job}`);
        seen.set(name, job);
      }
    }
  });
});

describe("observability: Grafana dashboards", () => {
  const dashboards = allDashboards();

  it("provides overview, PostgreSQL, Kafka and nodes dashboards that pass the offline checks", () => {
    assert.deepEqual(Object.keys(dashboards), [
      "pve-ha-overview.json",
      "pve-ha-postgres.json",
      "pve-ha-kafka.json",
      "pve-ha-nodes.json",
    ]);
    for (const [file, d] of Object.entries(dashboards)) {
      assert.deepEqual(validateDashboard(d), [], file);
      assert.equal(`${d.uid}.json`, file);
      const json = JSON.parse(renderDashboardJson(d)) as { panels: { type: string }[] };
      assert.ok(json.panels.length > 3);
    }
  });

  it("shows the paper's figures on the overview", () => {
    const exprs = dashboardExpressions(overviewDashboard()).join("\n");
    for (const metric of [
      "app_http_requests_total",
      'node_cpu_seconds_total{mode="idle"}',
      "node_load1",
      "pg_replica_lag_seconds",
      "kafka_consumergroup_lag",
      "scrape_duration_seconds",
    ]) {
      assert.ok(exprs.includes(metric), metric);
    }
    assert.match(exprs, /sum by \(node\) \(rate\(app_http_requests_total\{job="app"\}/);
  });

  it("shows Patroni's roles, lock, failovers and WAL behind with pgFailover auto only", () => {
    const titles = (d: dashboard.Dashboard): string[] => (d.panels ?? []).map((p) => p.title ?? "");
    const manual = postgresDashboard({ lbPair: false });
    const auto = postgresDashboard({ lbPair: false, patroni: true });
    assert.ok(!titles(manual).some((t) => /Patroni/.test(t)));
    assert.deepEqual(titles(auto).slice(0, 2), ["Patroni", "Patroni role per node"]);
    assert.deepEqual(
      titles(auto).slice(titles(auto).length - titles(manual).length),
      titles(manual),
    );
    assert.deepEqual(validateDashboard(auto), []);
    const used = new Set(dashboardExpressions(auto).flatMap(metricNames));
    for (const metric of [
      "patroni_primary",
      "patroni_replica",
      "patroni_cluster_unlocked",
      "patroni_postgres_timeline",
      "patroni_xlog_replayed_location",
    ]) {
      assert.ok(used.has(metric), metric);
      assert.ok(EXPORTER_METRICS.patroni.includes(metric), metric);
    }
  });

  it("reports a wrong datasource, an unknown metric and an empty query", () => {
    const bad = new dashboard.DashboardBuilder("bad")
      .uid("bad")
      .withPanel(
        timeSeries("typo", "none", [
          { expr: "node_load_one", legend: "" },
          { expr: " ", legend: "" },
        ]).datasource({ type: "prometheus", uid: "other" }),
      )
      .build();
    const problems = validateDashboard(bad);
    assert.ok(
      problems.some((p) => p.includes("datasource uid is other")),
      problems.join("\n"),
    );
    assert.ok(problems.some((p) => p.includes("unknown metric node_load_one")));
    assert.ok(problems.some((p) => p.includes("has no expression")));
  });

  it("turns every dashboard query into a recording rule for promtool, variables substituted", () => {
    const exprs = Object.values(dashboards).flatMap(dashboardExpressions);
    const doc = parse(renderExpressionCheckRules(exprs)) as {
      groups: { rules: { record: string; expr: string }[] }[];
    };
    assert.equal(doc.groups[0].rules.length, exprs.length);
    for (const rule of doc.groups[0].rules) assert.ok(!rule.expr.includes("$"), rule.expr);
  });
});

describe("observability: Grafana provisioning", () => {
  it("provisions Prometheus with the fixed uid as default datasource", () => {
    const doc = parse(renderGrafanaDatasource("15s")) as {
      datasources: {
        uid: string;
        url: string;
        isDefault: boolean;
        jsonData: { timeInterval: string };
      }[];
    };
    assert.equal(doc.datasources.length, 1);
    assert.equal(doc.datasources[0].uid, GRAFANA_DATASOURCE_UID);
    assert.equal(doc.datasources[0].url, "http://127.0.0.1:9090");
    assert.equal(doc.datasources[0].jsonData.timeInterval, "15s");
    const provider = parse(renderGrafanaDashboardProvider()) as {
      providers: { options: { path: string } }[];
    };
    assert.equal(provider.providers[0].options.path, "/var/lib/grafana/dashboards/pve-ha");
  });

  it("puts the admin password in the env file and refuses unsafe ones without echoing them", () => {
    assert.match(
      renderGrafanaEnv("abcdefgh12345678"),
      /^GF_SECURITY_ADMIN_PASSWORD=abcdefgh12345678$/m,
    );
    assert.throws(
      () => renderGrafanaEnv("short"),
      (e: Error) => /admin password must be >= 8/.test(e.message) && !e.message.includes("short"),
    );
    assert.throws(() => renderGrafanaEnv("has'quote$x"), /without quotes/);
  });
});

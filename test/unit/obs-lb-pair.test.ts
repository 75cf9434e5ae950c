import { strict as assert } from "assert";
import { parse } from "yaml";
import { parseConfig, planNodes, type NodePlan } from "../../components/config";
import { alertRules, DEFAULT_ALERT_THRESHOLDS } from "../../components/render/observability/alerts";
import { renderAlertRuleTests } from "../../components/render/observability/alertTests";
import { EXPORTER_METRICS } from "../../components/render/observability/exporterMetrics";
import {
  allDashboards,
  overviewDashboard,
} from "../../components/render/observability/grafana/dashboards";
import {
  dashboardExpressions,
  validateDashboard,
} from "../../components/render/observability/grafana/validate";
import { observedLayout } from "../../components/render/observability/nodes";
import { observabilityPayloadVars } from "../../components/render/observability/payloadVars";
import { metricNames } from "../../components/render/observability/promql";
import { renderNodeExporterDefaults } from "../../components/render/observability/services";
import {
  renderVrrpTextfile,
  VRRP_FAULT_METRIC,
  VRRP_MASTER_METRIC,
  VRRP_TEXTFILE_PATH,
} from "../../components/render/observability/vrrpTextfile";

const LB_PAIR_ALERTS = ["LbVipNoHolder", "LbVipTwoHolders", "LbVrrpFault"];
const VRRP_PANEL = "Virtual IP holder and VRRP FAULT per LB node";

function exampleConfig() {
  const { config, errors } = parseConfig({
    "proxmoxve:endpoint": "https://pve.example.internal:8006/",
    "proxmoxve:apiToken": "user@pve!token=secret",
    proxmoxSshPrivateKey: "key",
    networkCidr: "192.168.100.0/24",
    networkGateway: "192.168.100.1",
  });
  assert.deepEqual(errors, []);
  return config!;
}

/** The example plan with exactly `count` LB nodes, whatever the config's default. */
function plansWithLbs(count: 1 | 2): NodePlan[] {
  const plans = planNodes(exampleConfig());
  const lb = plans.find((p) => p.name === "lb")!;
  const lb2: NodePlan = { ...lb, name: "lb2", vmid: 250, ip: "192.168.100.50" };
  return [...(count === 1 ? [lb] : [lb, lb2]), ...plans.filter((p) => p.role !== "nginx")];
}

function deployedAlerts(plans: NodePlan[]): { alert: string; expr: string; for: string }[] {
  const config = exampleConfig();
  const vars = observabilityPayloadVars({
    plans,
    settings: config.observability,
    appPort: config.app.port,
    postgresExporterRole: "exporter",
    kafkaExporter: true,
  });
  const doc = parse(String(vars["obs-prometheus"].RULES_YML)) as {
    groups: { rules: { alert: string; expr: string; for: string }[] }[];
  };
  return doc.groups[0].rules;
}

function panelTitles(plans: NodePlan[]): string[] {
  const overview = allDashboards(observedLayout(plans))["pve-ha-overview.json"];
  return (overview.panels ?? []).map((p) => String((p as { title?: string }).title));
}

describe("observability: the keepalived LB pair", () => {
  it("counts an LB pair only with more than one nginx node", () => {
    assert.deepEqual(observedLayout(plansWithLbs(1)), { lbPair: false });
    assert.deepEqual(observedLayout(plansWithLbs(2)), { lbPair: true });
  });

  it("deploys the VIP alerts with two LB nodes only", () => {
    const single = deployedAlerts(plansWithLbs(1)).map((r) => r.alert);
    assert.deepEqual(
      single.filter((a) => LB_PAIR_ALERTS.includes(a)),
      [],
    );
    const pair = deployedAlerts(plansWithLbs(2));
    assert.deepEqual(
      pair
        .filter((r) => LB_PAIR_ALERTS.includes(r.alert))
        .map((r) => ({ alert: r.alert, expr: r.expr, for: r.for })),
      [
        {
          alert: "LbVipNoHolder",
          expr: "sum by (vrrp_instance) (pve_ha_vrrp_master) < 1 or absent(pve_ha_vrrp_master)",
          for: "10s",
        },
        {
          alert: "LbVipTwoHolders",
          expr: "sum by (vrrp_instance) (pve_ha_vrrp_master) > 1",
          for: "5s",
        },
        { alert: "LbVrrpFault", expr: "pve_ha_vrrp_fault == 1", for: "30s" },
      ],
    );
    assert.deepEqual(
      pair.map((r) => r.alert).filter((a) => !LB_PAIR_ALERTS.includes(a)),
      single,
    );
  });

  it("gives each VIP alert a firing and a silent promtool case", () => {
    const rules = alertRules(DEFAULT_ALERT_THRESHOLDS, { lbPair: true });
    const doc = parse(renderAlertRuleTests(rules, DEFAULT_ALERT_THRESHOLDS, "r.yml")) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    for (const alert of LB_PAIR_ALERTS) {
      const checks = doc.tests
        .flatMap((t) => t.alert_rule_test)
        .filter((c) => c.alertname === alert);
      assert.ok(
        checks.some((c) => c.exp_alerts.length > 0),
        `${alert} fires`,
      );
      assert.ok(
        checks.some((c) => c.exp_alerts.length === 0),
        `${alert} stays silent`,
      );
    }
    const single = renderAlertRuleTests(
      alertRules(DEFAULT_ALERT_THRESHOLDS, { lbPair: false }),
      DEFAULT_ALERT_THRESHOLDS,
      "r.yml",
    );
    assert.doesNotMatch(single, /pve_ha_vrrp|LbVip|LbVrrp/);
  });

  it("shows each LB node's VRRP state on the overview with two LB nodes only", () => {
    assert.ok(!panelTitles(plansWithLbs(1)).includes(VRRP_PANEL));
    const json = (layout?: { lbPair: boolean }) => JSON.stringify(allDashboards(layout));
    assert.equal(json(), json(observedLayout(plansWithLbs(1))));
    const titles = panelTitles(plansWithLbs(2));
    assert.equal(titles.indexOf(VRRP_PANEL), titles.indexOf("Load balancer") + 1);
    const pair = overviewDashboard({ lbPair: true });
    assert.deepEqual(validateDashboard(pair), []);
    const names = new Set(dashboardExpressions(pair).flatMap(metricNames));
    assert.ok(names.has(VRRP_MASTER_METRIC) && names.has(VRRP_FAULT_METRIC));
  });

  it("reads the keepalived textfile through the node job's textfile collector", () => {
    assert.ok(EXPORTER_METRICS.node.includes(VRRP_MASTER_METRIC));
    assert.ok(EXPORTER_METRICS.node.includes(VRRP_FAULT_METRIC));
    const dir = VRRP_TEXTFILE_PATH.slice(0, VRRP_TEXTFILE_PATH.lastIndexOf("/"));
    assert.match(VRRP_TEXTFILE_PATH, /\.prom$/);
    const args = renderNodeExporterDefaults()
      .replace(/^ARGS="|"\n$/g, "")
      .split(" ");
    assert.ok(args.includes(`--collector.textfile.directory=${dir}`), args.join(" "));
  });

  it("renders the textfile of each VRRP state", () => {
    const samples = (state: "MASTER" | "BACKUP" | "FAULT") =>
      renderVrrpTextfile("VI_1", state)
        .split("\n")
        .filter((l) => l !== "" && !l.startsWith("#"));
    assert.deepEqual(samples("MASTER"), [
      'pve_ha_vrrp_master{vrrp_instance="VI_1"} 1',
      'pve_ha_vrrp_fault{vrrp_instance="VI_1"} 0',
    ]);
    assert.deepEqual(samples("BACKUP"), [
      'pve_ha_vrrp_master{vrrp_instance="VI_1"} 0',
      'pve_ha_vrrp_fault{vrrp_instance="VI_1"} 0',
    ]);
    assert.deepEqual(samples("FAULT"), [
      'pve_ha_vrrp_master{vrrp_instance="VI_1"} 0',
      'pve_ha_vrrp_fault{vrrp_instance="VI_1"} 1',
    ]);
    assert.throws(() => renderVrrpTextfile('a"b', "MASTER"), /instance must match/);
  });
});

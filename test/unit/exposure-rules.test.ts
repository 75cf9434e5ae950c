import * as assert from "assert";
import { parse } from "yaml";
import {
  ANYWHERE,
  exposureOptionsOf,
  exposureRules,
  type ExposureRule,
} from "../../components/config/exposure";
import { PORTS } from "../../components/config/ports";
import { parseConfig, planNodes, type RawConfig, type StackConfig } from "../../components/config";
import {
  prometheusOptionsFor,
  renderPrometheusConfig,
} from "../../components/render/observability/prometheus";
import { exampleRaw } from "./program-harness";

function configOf(changes: RawConfig = {}): StackConfig {
  const { config, errors } = parseConfig({ ...exampleRaw(), ...changes });
  if (!config) throw new Error(errors.join("\n"));
  return config;
}

function rulesOf(cfg: StackConfig, operators?: string[]) {
  const plans = planNodes(cfg);
  const ip = (name: string) => plans.find((p) => p.name === name)?.ip as string;
  return { plans, ip, rules: exposureRules(plans, exposureOptionsOf(cfg, operators)) };
}

/** The sources of the one tcp rule of `node` for `port` ([] when there is none). */
function tcpSources(rules: ExposureRule[], node: string, port: number): string[] {
  const found = rules.filter((r) => r.node === node && r.proto === "tcp" && r.port === port);
  assert.ok(found.length <= 1, `${found.length} rules for ${node}:${port}`);
  return found.length === 0 ? [] : [...found[0].sources].sort();
}

/** Every tcp source that lets `client` reach `node`:`port`. */
function allows(rules: ExposureRule[], node: string, port: number, client: string): boolean {
  return rules.some(
    (r) =>
      r.node === node &&
      r.proto === "tcp" &&
      r.port === port &&
      r.sources.some((s) => s === client || (s.includes("/") && inCidrText(client, s))),
  );
}

function inCidrText(ip: string, cidr: string): boolean {
  const [net, prefix] = cidr.split("/");
  const toInt = (a: string) => a.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(prefix));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(net) / size);
}

describe("config: exposureRules (who may reach what)", () => {
  // TLS off: the rules without the LBs' HTTPS port (the first test turns it on).
  const cfg = configOf({ lbTls: "off" });
  const { plans, ip, rules } = rulesOf(cfg);

  it("opens the LBs' HTTPS port to anyone only with lbTls on, and on no other node", () => {
    assert.ok(!rules.some((r) => r.port === PORTS.https), "no 443 without TLS");
    for (const tls of ["self-signed", "provided"]) {
      const on = rulesOf({ ...cfg, frontDoor: { ...cfg.frontDoor, tls } } as StackConfig).rules;
      const https = on.filter((r) => r.port === PORTS.https);
      assert.deepStrictEqual(
        https.map((r) => [r.node, r.proto, r.sources]),
        [
          ["lb", "tcp", [ANYWHERE]],
          ["lb2", "tcp", [ANYWHERE]],
        ],
      );
    }
  });

  it("lets only HAProxy and the other PostgreSQL node reach PostgreSQL, HAProxy the role check", () => {
    assert.deepStrictEqual(tcpSources(rules, "pg1", PORTS.postgres), [ip("pg2"), ip("pgproxy")]);
    assert.deepStrictEqual(tcpSources(rules, "pg2", PORTS.postgres), [ip("pg1"), ip("pgproxy")]);
    for (const pg of ["pg1", "pg2"]) {
      assert.deepStrictEqual(tcpSources(rules, pg, PORTS.pgRoleCheck), [ip("pgproxy")]);
      assert.deepStrictEqual(tcpSources(rules, pg, PORTS.postgresExporter), [ip("monitor")]);
    }
  });

  it("opens HTTP on the LBs to anywhere, VRRP between the two LBs, the app port to the LBs", () => {
    for (const lb of ["lb", "lb2"]) {
      assert.deepStrictEqual(tcpSources(rules, lb, PORTS.http), [ANYWHERE]);
      const other = lb === "lb" ? "lb2" : "lb";
      assert.deepStrictEqual(
        rules.filter((r) => r.node === lb && r.proto === "vrrp").map((r) => r.sources),
        [[ip(other)]],
      );
    }
    assert.deepStrictEqual(
      rules.filter((r) => r.sources.includes(ANYWHERE)).map((r) => r.node),
      ["lb", "lb2"],
    );
    for (const app of ["webserver1", "webserver2"]) {
      assert.ok(
        allows(rules, app, cfg.app.port, ip("lb")) && allows(rules, app, cfg.app.port, ip("lb2")),
      );
      assert.ok(!allows(rules, app, cfg.app.port, ip("pgproxy")));
    }
    const single = rulesOf(configOf({ lbReplicas: "1" })).rules;
    assert.ok(!single.some((r) => r.proto === "vrrp"));
  });

  it("lets the app nodes reach HAProxy and the brokers, the Kafka nodes their controllers", () => {
    const apps = [ip("webserver1"), ip("webserver2")];
    assert.deepStrictEqual(tcpSources(rules, "pgproxy", PORTS.haproxyReadWrite), apps);
    assert.deepStrictEqual(tcpSources(rules, "pgproxy", PORTS.haproxyReadOnly), apps);
    assert.deepStrictEqual(
      tcpSources(rules, "kafka1", PORTS.kafka),
      [...apps, ip("kafka2"), ip("kafka3"), ip("monitor")].sort(),
    );
    assert.deepStrictEqual(
      tcpSources(rules, "kafka1", PORTS.kafkaController),
      [ip("kafka2"), ip("kafka3")].sort(),
    );
    // kafka3 is a controller-only voter: no broker port.
    assert.deepStrictEqual(tcpSources(rules, "kafka3", PORTS.kafka), []);
    assert.deepStrictEqual(
      tcpSources(rules, "kafka3", PORTS.kafkaController),
      [ip("kafka1"), ip("kafka2")].sort(),
    );
  });

  it("lets the monitor scrape every target of the rendered prometheus.yml", () => {
    for (const changes of [{}, { grafanaEnabled: "true", kafkaExporterEnabled: "false" }]) {
      const c = configOf(changes);
      const run = rulesOf(c);
      const yml = parse(
        renderPrometheusConfig(
          run.plans,
          prometheusOptionsFor(c.observability.scrapeIntervalSeconds, {
            grafana: c.observability.grafanaEnabled,
            kafkaExporter: c.observability.kafkaExporterEnabled,
            appPort: c.app.port,
          }),
        ),
      ) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
      const monitor = run.ip("monitor");
      let remote = 0;
      for (const job of yml.scrape_configs) {
        for (const address of job.static_configs.flatMap((s) => s.targets)) {
          const [host, port] = address.split(":");
          const node = run.plans.find((p) => p.ip === host);
          assert.ok(node, `${job.job_name}: ${address} is no node`);
          // The monitor's own targets are reached over loopback, never through a firewall.
          if (node.name === "monitor") continue;
          assert.ok(
            allows(run.rules, node.name, Number(port), monitor),
            `${job.job_name} ${address}`,
          );
          remote++;
        }
      }
      assert.ok(remote >= plans.length + 8, `only ${remote} remote targets`);
    }
  });

  it("opens the monitor's UIs and HAProxy's stats to the operators (default networkCidr)", () => {
    assert.deepStrictEqual(tcpSources(rules, "monitor", PORTS.prometheus), [cfg.network.cidr]);
    assert.deepStrictEqual(tcpSources(rules, "monitor", PORTS.alertmanager), [cfg.network.cidr]);
    assert.deepStrictEqual(tcpSources(rules, "monitor", PORTS.grafana), []);
    const custom = rulesOf(configOf({ grafanaEnabled: "true" }), ["10.9.0.0/16"]).rules;
    assert.deepStrictEqual(tcpSources(custom, "monitor", PORTS.grafana), ["10.9.0.0/16"]);
    assert.deepStrictEqual(tcpSources(custom, "pgproxy", PORTS.haproxyStats), [
      "10.9.0.0/16",
      ip("monitor"),
    ]);
  });

  it("gives every node ping and node_exporter, never lists a node as its own source", () => {
    for (const plan of plans) {
      const own = rules.filter((r) => r.node === plan.name);
      assert.ok(own.some((r) => r.proto === "icmp" && r.sources[0] === cfg.network.cidr));
      if (plan.name !== "monitor") {
        assert.deepStrictEqual(tcpSources(rules, plan.name, PORTS.nodeExporter), [ip("monitor")]);
      }
      for (const r of own) {
        assert.ok(r.sources.length > 0 && !r.sources.includes(plan.ip), JSON.stringify(r));
        assert.strictEqual(r.port === undefined, r.proto === "icmp" || r.proto === "vrrp");
        for (const s of r.sources) assert.match(s, /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/);
      }
    }
  });
});

import { strict as assert } from "assert";
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { exampleRaw, runProgram, transitiveDeps, type ProgramRun } from "./program-harness";

const STACK_TYPE = "pve-ha:observability:Stack";
const COMMAND = "command:remote:Command";

function stackOf(run: ProgramRun) {
  const stacks = run.resources.filter((r) => r.type === STACK_TYPE);
  assert.equal(stacks.length, 1);
  return stacks[0];
}

function commands(run: ProgramRun, suffix: string) {
  return run.resources.filter((r) => r.type === COMMAND && r.name.endsWith(`-${suffix}`));
}

/** The resolved value of an Output (under mocks every value is known). */
function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

async function stdinOf(run: ProgramRun, name: string): Promise<string> {
  const cmd = run.byName(name).resource as command.remote.Command;
  return String(await valueOf(cmd.stdin as pulumi.Output<string>));
}

/** The readonly variable of a rendered payload (stdin of a pct exec Command). */
function payloadVar(stdin: string, name: string): string {
  const m = new RegExp(`^readonly ${name}='((?:[^']|'\\\\'')*)'$`, "ms").exec(stdin);
  if (!m) throw new Error(`no variable ${name}`);
  return m[1].replace(/'\\''/g, "'");
}

/** The example stack with Grafana on and the given kafka_exporter artifact. */
function withKafkaExporter(source: object, extra: Record<string, string> = {}) {
  return exampleRaw({ grafanaEnabled: "true", artifacts: { kafkaExporter: source }, ...extra });
}

/** The LB nodes: where the program configures nginx. */
function lbNames(run: ProgramRun): string[] {
  return commands(run, "nginx-configure")
    .map((r) => r.name.replace(/-nginx-configure$/, ""))
    .sort();
}

const EXPORTER_URL = {
  url: "https://downloads.example.internal/kafka_exporter-1.9.0.linux-amd64.tar.gz",
  sha256: "0".repeat(64),
};

describe("observability: ObservabilityStack under Pulumi mocks", function () {
  this.timeout(60000);
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(withKafkaExporter(EXPORTER_URL));
  });

  it("installs node_exporter on every node and the role exporters where they belong", () => {
    const nodeExporters = commands(run, "obs-node-exporter")
      .map((r) => r.name)
      .sort();
    assert.equal(nodeExporters.length, Object.keys(run.outputs.nodes as object).length);
    const lbs = lbNames(run);
    assert.ok(lbs.includes("lb"));
    assert.deepEqual(
      commands(run, "obs-nginx-exporter")
        .map((r) => r.name)
        .sort(),
      lbs.map((lb) => `${lb}-obs-nginx-exporter`),
    );
    assert.deepEqual(
      commands(run, "obs-postgres-exporter")
        .map((r) => r.name)
        .sort(),
      ["pg1-obs-postgres-exporter", "pg2-obs-postgres-exporter"],
    );
    for (const name of [
      "obs-kafka-exporter",
      "obs-alertmanager",
      "obs-prometheus",
      "obs-grafana",
    ]) {
      assert.deepEqual(
        commands(run, name).map((r) => r.name),
        [`monitor-${name}`],
      );
    }
  });

  it("parents every observability resource to the component", () => {
    const component = stackOf(run).resource;
    const own = run.resources.filter((r) => r.name.includes("-obs-") || r.name.includes("grafana"));
    assert.ok(own.length >= 20);
    for (const r of own) {
      if (r.type === STACK_TYPE || r.type === "pve-ha:proxmox:LxcNode") continue;
      if (r.type === "command:remote:CopyToRemote") continue; // parented by pushArtifact's opts
      assert.equal(r.parent, component, `${r.type} ${r.name}`);
    }
  });

  it("starts Prometheus after every exporter and Alertmanager, the standby exporter after the primary's", () => {
    const prometheus = run.byName("monitor-obs-prometheus");
    const deps = transitiveDeps(run, prometheus);
    const exporters = run.resources.filter(
      (r) => r.type === COMMAND && /-obs-(node|nginx|postgres|kafka)-exporter$/.test(r.name),
    );
    // node_exporter everywhere, nginx's on each LB, two postgres, kafka_exporter
    const nodes = Object.keys(run.outputs.nodes as object).length;
    assert.equal(exporters.length, nodes + lbNames(run).length + 3);
    for (const e of exporters) assert.ok(deps.has(e.resource), e.name);
    assert.ok(deps.has(run.byName("monitor-obs-alertmanager").resource));
    const standby = transitiveDeps(run, run.byName("pg2-obs-postgres-exporter"));
    assert.ok(standby.has(run.byName("pg1-obs-postgres-exporter").resource));
  });

  it("pushes a prometheus.yml whose targets come from the node plan", async () => {
    const stdin = await stdinOf(run, "monitor-obs-prometheus");
    const config = parse(payloadVar(stdin, "PROMETHEUS_YML")) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const nodeJob = config.scrape_configs.find((j) => j.job_name === "node")!;
    const nodeIps = (run.outputs.nodes as Record<string, { ip: string }>) ?? {};
    const expected = Object.values(nodeIps)
      .map((n) => `${n.ip}:9100`)
      .sort();
    assert.deepEqual(nodeJob.static_configs.flatMap((s) => s.targets).sort(), expected);
  });

  it("keeps the Grafana admin password secret: secret output, no logs, secret stdout/stderr", async () => {
    const observability = run.stack.observability;
    assert.ok(await pulumi.isSecret(observability.grafanaAdminPassword));
    const password = await valueOf(observability.grafanaAdminPassword);
    const grafana = run.byName("monitor-obs-grafana");
    const grafanaCmd = grafana.resource as command.remote.Command;
    assert.equal(await valueOf(grafanaCmd.logging as pulumi.Output<string>), "none");
    assert.ok(await pulumi.isSecret(grafanaCmd.stdin as pulumi.Output<string>));
    assert.ok((await stdinOf(run, "monitor-obs-grafana")).includes(password));
    assert.ok(grafana.additionalSecretOutputs.includes("stdout"));
    assert.ok(grafana.additionalSecretOutputs.includes("stderr"));
    for (const r of run.resources.filter((x) => x.type === COMMAND && x !== grafana)) {
      assert.ok(!(await stdinOf(run, r.name)).includes(password), r.name);
    }
    assert.equal(commands(run, "grafana-dashboard-pve-ha-overview").length, 1);
  });

  it("exports the Prometheus, Alertmanager and Grafana URLs of the monitor node", () => {
    const monitorIp = (run.outputs.nodes as Record<string, { ip: string }>).monitor.ip;
    assert.equal(run.outputs.prometheusUrl, `http://${monitorIp}:9090`);
    assert.equal(run.outputs.alertmanagerUrl, `http://${monitorIp}:9093`);
    assert.equal(run.outputs.grafanaUrl, `http://${monitorIp}:3000`);
  });

  it("installs no Grafana when grafanaEnabled is false", async () => {
    const without = await runProgram(withKafkaExporter(EXPORTER_URL, { grafanaEnabled: "false" }));
    assert.equal(commands(without, "obs-grafana").length, 0);
    assert.equal(without.resources.filter((r) => r.name.includes("grafana-dashboard")).length, 0);
    assert.equal(without.outputs.grafanaUrl, "");
    const stdin = await stdinOf(without, "monitor-obs-prometheus");
    assert.ok(!payloadVar(stdin, "PROMETHEUS_YML").includes("job_name: grafana"));
  });

  it("alerts on and shows the LB pair's virtual IP only with two LBs", async () => {
    for (const lbReplicas of ["1", "2"]) {
      const shaped = await runProgram(withKafkaExporter(EXPORTER_URL, { lbReplicas }));
      const pair = lbReplicas === "2";
      assert.equal(lbNames(shaped).length, Number(lbReplicas));
      const rules = payloadVar(await stdinOf(shaped, "monitor-obs-prometheus"), "RULES_YML");
      for (const alert of ["LbVipNoHolder", "LbVipTwoHolders", "LbVrrpFault"]) {
        assert.equal(rules.includes(`alert: ${alert}`), pair, `${alert}, lbReplicas ${lbReplicas}`);
      }
      const overview = await stdinOf(shaped, "monitor-grafana-dashboard-pve-ha-overview");
      assert.equal(
        overview.includes("pve_ha_vrrp_master"),
        pair,
        `panel, lbReplicas ${lbReplicas}`,
      );
    }
  });

  it("leaves kafka_exporter out, and unscraped, when kafkaExporterEnabled is false", async () => {
    const missing = await runProgram(
      withKafkaExporter(EXPORTER_URL, { kafkaExporterEnabled: "false" }),
    );
    assert.equal(commands(missing, "obs-kafka-exporter").length, 0);
    assert.equal(commands(missing, "kafka-exporter-artifact").length, 0);
    const stdin = await stdinOf(missing, "monitor-obs-prometheus");
    const jobs = (
      parse(payloadVar(stdin, "PROMETHEUS_YML")) as { scrape_configs: { job_name: string }[] }
    ).scrape_configs.map((j) => j.job_name);
    assert.ok(!jobs.includes("kafka"));
    assert.ok(jobs.includes("kafka-jmx"));
  });
});

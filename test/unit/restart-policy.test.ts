import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderAppUnit } from "../../components/render/app";
import { renderKafkaUnit } from "../../components/render/kafka";
import { renderKafkaExporterUnit } from "../../components/render/observability/services";
import { renderPayload } from "../../components/render/payload";
import { RESTART_POLICY, renderRestartDropIn } from "../../components/render/restartPolicy";

/** `key=value` lines of one `[section]` of a unit file. */
function section(unit: string, name: string): string[] {
  const out: string[] = [];
  let current = "";
  for (const line of unit.split("\n")) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) current = header[1];
    else if (current === name && /^\w+=/.test(line)) out.push(line);
  }
  return out;
}

function assertPolicy(unit: string, what: string): void {
  const unitLines = section(unit, "Unit");
  const serviceLines = section(unit, "Service");
  for (const line of [
    `StartLimitIntervalSec=${RESTART_POLICY.startLimitIntervalSec}`,
    `StartLimitBurst=${RESTART_POLICY.startLimitBurst}`,
  ]) {
    assert.ok(unitLines.includes(line), `${what}: [Unit] lacks ${line}`);
  }
  for (const line of [`Restart=on-failure`, `RestartSec=${RESTART_POLICY.restartSec}`]) {
    assert.ok(serviceLines.includes(line), `${what}: [Service] lacks ${line}`);
  }
  assert.equal(serviceLines.filter((l) => l.startsWith("Restart=")).length, 1, what);
}

describe("restart policy", () => {
  it("restarts only after a failure, and a crash loop reaches the start limit", () => {
    assert.equal(RESTART_POLICY.restart, "on-failure");
    // A loop of starts RestartSec apart must reach the burst within the interval.
    assert.ok(
      RESTART_POLICY.startLimitBurst * RESTART_POLICY.restartSec <
        RESTART_POLICY.startLimitIntervalSec,
    );
    assertPolicy(renderRestartDropIn(), "drop-in");
  });

  it("is in every unit the project renders for a long-running service", () => {
    assertPolicy(renderAppUnit(), "pve-ha-app.service");
    assertPolicy(renderKafkaUnit({ heapMb: 512 }), "kafka.service");
    assertPolicy(renderKafkaExporterUnit(["10.0.0.16:9092"]), "kafka-exporter.service");
  });

  describe("lib.sh ensure_restart_policy", () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "restart-policy-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const lib = renderPayload("fetch-artifact", {}).split("# --- fetch-artifact.sh ---")[0];
    const owner = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
    function ensure(unit: string) {
      // write_file's owner is root:root in a container; here the test's own user.
      const script = `${lib}\nchown() { command chown ${owner} "\${@:2}"; }\nensure_restart_policy '${unit}'`;
      return spawnSync("bash", ["-c", script], {
        encoding: "utf8",
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          PVE_HA_UNIT_DIR: path.join(dir, "units"),
          PVE_HA_RESTART_DIR: path.join(dir, "restart"),
        },
        timeout: 30000,
      });
    }

    it("writes the same drop-in as the rendered units use, without restarting the service", () => {
      const r = ensure("postgresql@15-main.service");
      assert.equal(r.status, 0, r.stderr);
      const file = path.join(dir, "units", "postgresql@15-main.service.d", "restart.conf");
      assert.equal(fs.readFileSync(file, "utf8"), renderRestartDropIn());
      assert.equal(fs.statSync(file).mode & 0o777, 0o644);
      assert.ok(!fs.existsSync(path.join(dir, "restart")), "no restart marked");
      assert.equal(ensure("postgresql@15-main.service").status, 0, "idempotent");
    });

    it("refuses a unit that is not a service", () => {
      const r = ensure("pg-role-check.socket");
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /not a \.service unit: pg-role-check\.socket/);
    });
  });

  it("is applied by every payload that starts a packaged long-running service", () => {
    const packaged: Record<string, string> = {
      "pg-configure": '"$UNIT"',
      "nginx-configure": "nginx.service",
      "haproxy-configure": "haproxy.service",
      "obs-node-exporter": "prometheus-node-exporter.service",
      "obs-nginx-exporter": "prometheus-nginx-exporter.service",
      "obs-postgres-exporter": '"$unit"',
      "obs-prometheus": '"$unit"',
      "obs-alertmanager": '"$unit"',
      "obs-grafana": '"$unit"',
    };
    for (const [payload, unit] of Object.entries(packaged)) {
      const body = renderPayload(payload, {}).split(`# --- ${payload}.sh ---`)[1];
      const at = body.indexOf(`ensure_restart_policy ${unit}\n`);
      assert.ok(at >= 0, `${payload} does not call ensure_restart_policy ${unit}`);
      assert.ok(at < body.indexOf("ensure_service"), `${payload}: drop-in after the first start`);
    }
    // PostgreSQL's drop-in lives in one payload only (a failover manager would leave it out).
    for (const payload of ["pg-primary-setup", "pg-standby-setup"]) {
      const body = renderPayload(payload, {}).split(`# --- ${payload}.sh ---`)[1];
      assert.ok(!body.includes("ensure_restart_policy"), payload);
    }
  });
});

import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sandboxPaths } from "../../scripts/sandbox/paths";
import {
  applyOverrides,
  hostSshOf,
  mergeConfig,
  parseAssignment,
  readStackConfig,
  SANDBOX_BRIDGE,
  sandboxOverlay,
  withStackSettings,
} from "../../scripts/sandbox/sandbox-config";

describe("sandbox config overlay", () => {
  const paths = sandboxPaths("/repo");

  it("points the stack at the sandbox bridge, subnet, staging dir, local artifacts and apt repo", () => {
    const o = sandboxOverlay(paths);
    assert.equal(o["pve-ha-stack:bridge"], SANDBOX_BRIDGE.name);
    assert.equal(o["pve-ha-stack:networkCidr"], "10.213.47.0/24");
    assert.equal(o["pve-ha-stack:networkGateway"], "10.213.47.1");
    assert.equal(o["pve-ha-stack:hostStagingDir"], "/repo/.sandbox/staging");
    assert.equal(o["pve-ha-stack:grafanaEnabled"], "false");
    assert.match(
      o["pve-ha-stack:aptSources"],
      /^deb \[trusted=yes\] file:\/srv\/pve-ha-sandbox-apt \.\/\n$/,
    );
    const artifacts = JSON.parse(o["pve-ha-stack:artifacts"]) as Record<
      string,
      { localPath: string }
    >;
    assert.deepEqual(Object.keys(artifacts).sort(), [
      "app",
      "jmxAgent",
      "kafka",
      "kafkaExporter",
      "node",
      "patroni",
    ]);
    assert.equal(artifacts.kafka.localPath, "/repo/.cache/artifacts/kafka.tgz");
  });

  it("enables kafka_exporter only when its artifact was built", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-config-"));
    try {
      const local = sandboxPaths(dir);
      assert.equal(sandboxOverlay(local)["pve-ha-stack:kafkaExporterEnabled"], "false");
      fs.mkdirSync(local.artifactsDir, { recursive: true });
      fs.writeFileSync(path.join(local.artifactsDir, "kafka_exporter"), "binary");
      assert.equal(sandboxOverlay(local)["pve-ha-stack:kafkaExporterEnabled"], "true");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads plain values of a stack file, lists encrypted keys, and requires the overlay to cover them", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-config-"));
    try {
      const file = path.join(dir, "Pulumi.dev.yaml");
      fs.writeFileSync(
        file,
        [
          "config:",
          "  pve-ha-stack:vmidBase: 300",
          "  pve-ha-stack:lbAlgorithm: least_conn",
          "  pve-ha-stack:nodes:",
          "    pg1:",
          "      cores: 4",
          "  pve-ha-stack:proxmoxSshPrivateKey:",
          "    secure: v1:abc",
          "  pve-ha-stack:other:",
          "    secure: v1:def",
          "",
        ].join("\n"),
      );
      const stack = readStackConfig(file);
      assert.deepEqual(stack.values, {
        "pve-ha-stack:vmidBase": "300",
        "pve-ha-stack:lbAlgorithm": "least_conn",
        "pve-ha-stack:nodes": '{"pg1":{"cores":4}}',
      });
      assert.throws(
        () => mergeConfig(stack, sandboxOverlay(paths)),
        /no value for the encrypted config keys: pve-ha-stack:other/,
      );
      const merged = mergeConfig(stack, { ...sandboxOverlay(paths), "pve-ha-stack:other": "x" });
      assert.equal(merged["pve-ha-stack:vmidBase"], "300");
      assert.equal(merged["pve-ha-stack:bridge"], "pvehab0");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("sandbox: a day-2 change for one `up` (--set, --artifact)", () => {
  const paths = sandboxPaths("/repo");

  it("sets scalar settings and swaps a local artifact file, refusing unknown names", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "day2-")), "app-v2.tgz");
    fs.writeFileSync(file, "x");
    const merged = sandboxOverlay(paths);
    const out = applyOverrides(merged, {
      settings: { appLogLevel: "debug" },
      artifacts: { app: file },
    });
    assert.equal(out["pve-ha-stack:appLogLevel"], "debug");
    const artifacts = JSON.parse(out["pve-ha-stack:artifacts"]) as Record<
      string,
      { localPath: string }
    >;
    assert.equal(artifacts.app.localPath, file);
    assert.equal(artifacts.kafka.localPath, "/repo/.cache/artifacts/kafka.tgz");
    assert.equal(merged["pve-ha-stack:appLogLevel"], undefined, "the merged config is not changed");
    assert.throws(
      () => applyOverrides(merged, { settings: { appLogLevl: "debug" }, artifacts: {} }),
      /--set: "appLogLevl" is not a scalar setting of the stack \(got "appLogLevl=debug"\)/,
    );
    assert.throws(
      () => applyOverrides(merged, { settings: {}, artifacts: { ap: file } }),
      /--artifact: "ap" is not an artifact of the sandbox/,
    );
    assert.throws(
      () => applyOverrides(merged, { settings: {}, artifacts: { app: "/nope.tgz" } }),
      /--artifact: app: no such file \(got "\/nope\.tgz"\)/,
    );
    assert.deepEqual(parseAssignment("--set", "a=b=c"), ["a", "b=c"]);
    assert.throws(
      () => parseAssignment("--set", "=x"),
      /--set: expected <key>=<value> \(got "=x"\)/,
    );
  });
});

describe("sandbox: the cold up's settings stay the stack's own", () => {
  it("keeps them under a later up's own --set values, which win on the same key", () => {
    const stack = { pgFailover: "manual", appLogLevel: "info" };
    const day2 = withStackSettings(stack, {
      settings: { appLogLevel: "warn" },
      artifacts: { app: "/tmp/a.tgz" },
    });
    assert.deepEqual(day2, {
      settings: { pgFailover: "manual", appLogLevel: "warn" },
      artifacts: { app: "/tmp/a.tgz" },
    });
    const back = withStackSettings(stack, { settings: {}, artifacts: {} });
    assert.deepEqual(back.settings, stack);
  });
});

describe("sandbox: the hosts of the example stacks, read as the program reads them", () => {
  const paths = sandboxPaths(path.resolve(__dirname, "..", ".."));
  const merged = (stack: string) =>
    mergeConfig(
      readStackConfig(path.join(paths.repoRoot, `Pulumi.${stack}.yaml`)),
      sandboxOverlay(paths),
    );

  it("has one host for the dev stack (provider keys it does not read are ignored)", () => {
    assert.deepEqual(hostSshOf(merged("dev")), { pve: "proxmox.sandbox.invalid" });
  });

  it("has three hosts for the three-host example", () => {
    assert.deepEqual(hostSshOf(merged("three-hosts")), {
      pve1: "pve1.example.internal",
      pve2: "pve2.example.internal",
      pve3: "pve3.example.internal",
    });
  });
});

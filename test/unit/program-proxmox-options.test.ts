import * as assert from "assert";
import { exampleRaw, runProgram, type ProgramRun } from "./program-harness";
import { LEGACY_TEMPLATE_TYPE } from "../../components/lxcNodes";

const CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy";
const DATA_NODES = ["kafka1", "kafka2", "kafka3", "pg1", "pg2"];

function containers(run: ProgramRun) {
  return run.resources.filter((r) => r.type === CONTAINER);
}

describe("program: Proxmox resource options", function () {
  this.timeout(60000);
  let run: ProgramRun;
  before(async () => {
    run = await runProgram(exampleRaw());
  });

  it("downloads the template with download.File, aliased from the deprecated FileLegacy", () => {
    const template = run.byName("template-pve");
    assert.strictEqual(template.type, "proxmoxve:download/file:File");
    // The alias makes an existing stack update the template in place instead of replacing it.
    // (parent: undefined is pulumi.rootStackResource: the old resource sat at the top level.)
    assert.deepStrictEqual(template.opts.aliases, [
      { type: LEGACY_TEMPLATE_TYPE, parent: undefined },
    ]);
  });

  it("gives every container provider timeouts and longer Pulumi custom timeouts", () => {
    for (const c of containers(run)) {
      assert.strictEqual(c.inputs.timeoutCreate, 1800, c.name);
      assert.strictEqual(c.inputs.timeoutUpdate, 1800, c.name);
      assert.strictEqual(c.inputs.timeoutDelete, 1800, c.name);
      assert.deepStrictEqual(
        c.opts.customTimeouts,
        { create: "1860s", update: "1860s", delete: "1860s" },
        c.name,
      );
    }
  });

  it("protects no container by default, so pulumi destroy tears a test stack down", () => {
    for (const c of containers(run)) {
      assert.ok(!c.opts.protect && !c.opts.retainOnDelete, c.name);
      // Root's SSH keys are given at creation only: a changed key never rebuilds a node.
      assert.deepStrictEqual(c.opts.ignoreChanges, ["initialization.userAccount"], c.name);
    }
  });

  it("with protectData, protects and retains exactly the PostgreSQL and Kafka containers", async () => {
    const protectedRun = await runProgram(
      exampleRaw({ protectData: "true", containerTimeoutSeconds: "600" }),
    );
    const guarded = containers(protectedRun).filter((c) => c.opts.protect);
    assert.deepStrictEqual(guarded.map((c) => c.name).sort(), DATA_NODES);
    for (const c of containers(protectedRun)) {
      const data = DATA_NODES.includes(c.name);
      assert.strictEqual(c.opts.retainOnDelete === true, data, c.name);
      assert.deepStrictEqual(
        c.opts.ignoreChanges,
        data
          ? ["initialization.userAccount", "operatingSystem.templateFileId"]
          : ["initialization.userAccount"],
        c.name,
      );
      assert.strictEqual(c.inputs.timeoutCreate, 600, c.name);
    }
  });
});

import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { SandboxContext } from "../../scripts/sandbox/context";
import { runProgram } from "../../scripts/sandbox/executor";
import { sandboxPaths } from "../../scripts/sandbox/paths";
import { SANDBOX_BRIDGE } from "../../scripts/sandbox/sandbox-config";
import { loadState } from "../../scripts/sandbox/state";

const PROGRAM = path.join(__dirname, "sandbox-fixture-program.ts");

describe("sandbox performing monitor (real local resources, no LXC)", function () {
  this.timeout(60_000);
  let dir: string;
  let outFile: string;
  let log: string[];

  function context(): SandboxContext {
    const paths = { ...sandboxPaths(dir), repoRoot: dir };
    return {
      paths,
      bridge: SANDBOX_BRIDGE,
      baseRootfs: path.join(dir, "rootfs"),
      aptRepoMountPoint: "/srv/apt",
      state: loadState(paths.stateFile),
      parallelism: 2,
      continueOnError: false,
      log: (line) => log.push(line),
    };
  }

  function deploy(config: Record<string, string>) {
    delete require.cache[require.resolve(PROGRAM)];
    return runProgram(
      context(),
      { "fixture:outFile": outFile, "fixture:label": "one", ...config },
      [],
      PROGRAM,
    );
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-monitor-"));
    outFile = path.join(dir, "out.txt");
    log = [];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("performs each resource in the program's order and returns the outputs with secrets in clear", async () => {
    const run = await deploy({});
    assert.equal(run.performed, 4);
    const [label, pw, id] = fs.readFileSync(outFile, "utf8").trim().split(" ");
    assert.equal(label, "one");
    assert.equal(run.outputs.passwordOut, pw);
    assert.match(pw, /^[A-Za-z0-9]{20}$/);
    assert.equal(run.outputs.uuidOut, id);
    assert.equal(run.outputs.afterOut, "done\n");
    assert.ok(log.some((l) => /ok {3}Command write \(\d+\.\d s\)/.test(l)));
  });

  it("skips unchanged resources on a re-run and keeps the random values", async () => {
    const first = await deploy({});
    const second = await deploy({});
    assert.equal(second.performed, 0);
    assert.equal(second.skipped, 4);
    assert.equal(second.outputs.passwordOut, first.outputs.passwordOut);
    assert.equal(fs.readFileSync(outFile, "utf8").trim().split("\n").length, 1);
  });

  it("re-runs exactly the command whose input changed", async () => {
    await deploy({});
    const changed = await deploy({ "fixture:label": "two" });
    assert.equal(changed.performed, 1);
    assert.deepEqual(
      fs
        .readFileSync(outFile, "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(" ")[0]),
      ["one", "two"],
    );
  });

  it("reports a failing command with its exit status and output, and keeps the state of what ran", async () => {
    await assert.rejects(
      deploy({ "fixture:fail": "true" }),
      /command after exited 3 .*\n[\s\S]*broken/,
    );
    assert.ok(log.some((l) => l.includes("FAIL Command after")));
    const state = loadState(path.join(dir, ".sandbox", "state.json"));
    assert.ok(state.resources["command:local:Command::write"]);
    assert.equal(state.resources["command:local:Command::after"], undefined);
  });
});

import { strict as assert } from "assert";
import { execFileSync } from "child_process";
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
  let onLog: (line: string) => void;
  let releaseFileIo: () => void;

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
      log: (line) => {
        log.push(line);
        onLog(line);
      },
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
    onLog = () => undefined;
    releaseFileIo = () => undefined;
  });
  afterEach(() => {
    releaseFileIo();
    fs.rmSync(dir, { recursive: true, force: true });
  });

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

  /**
   * Holds every libuv worker thread in a blocking open of a FIFO (no CPU used), so asynchronous
   * file I/O such as opening a command's log file waits until releaseFileIo() (afterEach at the
   * latest). Readers are queued and released in the same order, so releasing never deadlocks.
   */
  function holdFileIoThreads() {
    const fifos = Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }, (_, i) =>
      path.join(dir, `hold-${i}.fifo`),
    );
    for (const fifo of fifos) {
      execFileSync("mkfifo", [fifo]);
      fs.open(fifo, "r", (err, fd) => (err ? undefined : fs.close(fd, () => undefined)));
    }
    releaseFileIo = () => {
      releaseFileIo = () => undefined;
      for (const fifo of fifos) fs.closeSync(fs.openSync(fifo, "w"));
    };
  }

  it("reports a failure only after the failed command's log file is closed", async () => {
    // Once the first command is done, file I/O stalls: the failing command's log cannot open yet.
    const held = new Promise<boolean>((resolve) => {
      onLog = (line) => {
        if (!line.includes("ok   Command write")) return;
        holdFileIoThreads();
        resolve(true);
      };
    });
    let settled = false;
    const run = deploy({ "fixture:fail": "true" }).finally(() => (settled = true));
    const ranFirst = await Promise.race([
      held,
      run.then(
        () => false,
        () => false,
      ),
    ]);
    assert.ok(ranFirst, "the run settled before its first command was done");
    // A run that reports while its log is still being opened would have settled by now.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const settledWhileStalled = settled;
    releaseFileIo();
    await assert.rejects(run, /command after exited 3/);
    assert.equal(settledWhileStalled, false, "the failure was reported before its log closed");
    assert.match(
      fs.readFileSync(path.join(dir, ".sandbox", "logs", "after.log"), "utf8"),
      /broken/,
    );
  });
});

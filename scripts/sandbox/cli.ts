import * as fs from "fs";
import * as path from "path";
import { bridgeExists, removeBridge } from "./bridge";
import { runChecks } from "./checks";
import { runProgram } from "./executor";
import { destroyContainer, listContainers } from "./lxc";
import { REPO_ROOT, sandboxPaths, SandboxPaths } from "./paths";
import { prepareHost } from "./prepare";
import {
  APT_REPO_MOUNT_POINT,
  hostSshOf,
  mergeConfig,
  readStackConfig,
  SANDBOX_BRIDGE,
  sandboxOverlay,
} from "./sandbox-config";
import { topologyFromOutputs } from "./topology";
import { loadState } from "./state";
import { logLine, seconds, step } from "./steps";

const USAGE =
  "usage: npm run sandbox -- up [--stack <name>] [--continue-on-error] | status | down [--purge]";
const DEFAULT_STACK = "dev";
const PARALLELISM = 3;

function sandboxPackages(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only by `up`
  const packages = require("../../components/render/packages") as {
    allDebianPackages(): readonly string[];
  };
  return [...packages.allDebianPackages()];
}

/** The example stack the sandbox deploys: Pulumi.<name>.yaml (remembered by `up` for `status`). */
function stackFile(paths: SandboxPaths, name: string): string {
  const file = path.join(paths.repoRoot, `Pulumi.${name}.yaml`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || !fs.existsSync(file)) {
    throw new Error(`--stack: no example stack file Pulumi.${name}.yaml (got "${name}")`);
  }
  return file;
}

function stackNameFile(paths: SandboxPaths): string {
  return path.join(paths.stateDir, "stack-name");
}

function deployedStackName(paths: SandboxPaths): string {
  const file = stackNameFile(paths);
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : DEFAULT_STACK;
}

function sandboxConfig(paths: SandboxPaths, stack: string): Record<string, string> {
  return mergeConfig(readStackConfig(stackFile(paths, stack)), sandboxOverlay(paths));
}

async function up(paths: SandboxPaths, stack: string, continueOnError: boolean): Promise<void> {
  const started = Date.now();
  const deployed = fs.existsSync(paths.outputsFile) ? deployedStackName(paths) : stack;
  if (deployed !== stack) {
    throw new Error(`the sandbox holds stack "${deployed}": run \`npm run sandbox -- down\` first`);
  }
  const config = sandboxConfig(paths, stack);
  const hostSsh = hostSshOf(config);
  const prepared = await prepareHost(paths, sandboxPackages());
  fs.mkdirSync(paths.stateDir, { recursive: true });
  fs.writeFileSync(stackNameFile(paths), `${stack}\n`);
  logLine(`    stack: Pulumi.${stack}.yaml, hosts: ${Object.keys(hostSsh).join(", ")}`);
  fs.mkdirSync(paths.stagingDir, { recursive: true });
  const run = await step("deploy the stack (index.ts under the performing mock monitor)", () =>
    runProgram(
      {
        paths,
        bridge: SANDBOX_BRIDGE,
        baseRootfs: prepared.baseRootfs,
        aptRepoMountPoint: APT_REPO_MOUNT_POINT,
        state: loadState(paths.stateFile),
        parallelism: PARALLELISM,
        continueOnError,
        log: logLine,
        hostSsh,
      },
      config,
      Object.keys(config).filter((k) => /PrivateKey|apiToken/.test(k)),
    ),
  );
  logLine(`    resources performed: ${run.performed}, unchanged (skipped): ${run.skipped}`);
  fs.writeFileSync(paths.outputsFile, JSON.stringify(run.outputs, null, 2) + "\n", { mode: 0o600 });
  logLine(`    outputs: ${path.relative(paths.repoRoot, paths.outputsFile)}`);
  logLine(`up finished in ${seconds(started)} s`);
  await status(paths);
}

async function status(paths: SandboxPaths): Promise<void> {
  if (!fs.existsSync(paths.outputsFile))
    throw new Error("the sandbox is not up (no .sandbox/outputs.json)");
  const outputs = JSON.parse(fs.readFileSync(paths.outputsFile, "utf8")) as Record<string, unknown>;
  const topology = topologyFromOutputs(outputs);
  if (!(await bridgeExists(SANDBOX_BRIDGE.name))) {
    throw new Error(
      `the sandbox bridge ${SANDBOX_BRIDGE.name} does not exist: no check traffic is sent`,
    );
  }
  const ok = await step("status checks", () => runChecks(paths, topology));
  if (!ok) throw new Error("some status checks failed");
}

async function down(paths: SandboxPaths, purge: boolean): Promise<void> {
  await step("remove containers", async () => {
    for (const vmid of listContainers(paths.lxcPath)) {
      await destroyContainer(paths.lxcPath, vmid);
      logLine(`    removed ${vmid}`);
    }
  });
  await step(`remove bridge ${SANDBOX_BRIDGE.name}`, async () => {
    logLine(`    ${(await removeBridge(SANDBOX_BRIDGE.name)) ? "removed" : "absent"}`);
  });
  await step("remove sandbox state, logs and staging (.sandbox)", async () => {
    fs.rmSync(paths.stateDir, { recursive: true, force: true });
  });
  if (purge) {
    await step("remove caches (.cache/sandbox)", async () =>
      fs.rmSync(paths.cacheDir, { recursive: true, force: true }),
    );
  }
}

async function main(argv: string[]): Promise<void> {
  const paths = sandboxPaths(REPO_ROOT);
  const [command, ...rest] = argv;
  if (command === "up") {
    let stack = DEFAULT_STACK;
    let continueOnError = false;
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === "--continue-on-error") continueOnError = true;
      else if (rest[i] === "--stack" && rest[i + 1] !== undefined) stack = rest[++i];
      else throw new Error(USAGE);
    }
    return up(paths, stack, continueOnError);
  }
  if (command === "status" && rest.length === 0) return status(paths);
  if (command === "down" && (rest.length === 0 || (rest.length === 1 && rest[0] === "--purge"))) {
    return down(paths, rest[0] === "--purge");
  }
  throw new Error(USAGE);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    logLine(`sandbox: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

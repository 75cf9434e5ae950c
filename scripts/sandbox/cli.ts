import * as fs from "fs";
import * as path from "path";
import { bridgeExists, removeBridge } from "./bridge";
import { runChecks } from "./checks";
import { runProgram } from "./executor";
import { destroyContainer, listContainers } from "./lxc";
import { REPO_ROOT, sandboxPaths, SandboxPaths } from "./paths";
import { prepareHost } from "./prepare";
import {
  applyOverrides,
  APT_REPO_MOUNT_POINT,
  type Day2Overrides,
  hostSshOf,
  mergeConfig,
  NO_OVERRIDES,
  parseAssignment,
  readStackConfig,
  SANDBOX_BRIDGE,
  sandboxOverlay,
  withStackSettings,
} from "./sandbox-config";
import { topologyFromOutputs } from "./topology";
import { loadState } from "./state";
import { logLine, seconds, step } from "./steps";

const USAGE =
  "usage: npm run sandbox -- up [--stack <name>] [--continue-on-error] [--set <key>=<value>]... " +
  "[--artifact <name>=<file>]... [--no-status] | status | down [--purge]";
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

/** The cold `up`'s `--set` values: kept for every later `up` until `down`. */
function stackSettingsFile(paths: SandboxPaths): string {
  return path.join(paths.stateDir, "stack-settings.json");
}

function deployedStackSettings(paths: SandboxPaths): Record<string, string> {
  const file = stackSettingsFile(paths);
  return fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>)
    : {};
}

function sandboxConfig(
  paths: SandboxPaths,
  stack: string,
  overrides: Day2Overrides = NO_OVERRIDES,
): Record<string, string> {
  return applyOverrides(
    mergeConfig(readStackConfig(stackFile(paths, stack)), sandboxOverlay(paths)),
    overrides,
  );
}

interface UpOptions {
  stack: string;
  continueOnError: boolean;
  /** a day-2 change: only for this `up`, the next one without them reverts it (a cold up's
   * settings stay: withStackSettings) */
  overrides: Day2Overrides;
  status: boolean;
}

async function up(paths: SandboxPaths, o: UpOptions): Promise<void> {
  const { stack, continueOnError } = o;
  const started = Date.now();
  const warm = fs.existsSync(paths.outputsFile);
  const deployed = warm ? deployedStackName(paths) : stack;
  if (deployed !== stack) {
    throw new Error(`the sandbox holds stack "${deployed}": run \`npm run sandbox -- down\` first`);
  }
  const stackSettings = warm ? deployedStackSettings(paths) : o.overrides.settings;
  const config = sandboxConfig(paths, stack, withStackSettings(stackSettings, o.overrides));
  const hostSsh = hostSshOf(config);
  const prepared = await prepareHost(paths, sandboxPackages());
  fs.mkdirSync(paths.stateDir, { recursive: true });
  fs.writeFileSync(stackNameFile(paths), `${stack}\n`);
  fs.writeFileSync(stackSettingsFile(paths), JSON.stringify(stackSettings) + "\n");
  const kept = Object.entries(stackSettings).map(([k, v]) => `${k}=${v}`);
  logLine(`    stack: Pulumi.${stack}.yaml, hosts: ${Object.keys(hostSsh).join(", ")}`);
  if (kept.length > 0) logLine(`    stack settings (from the cold up): ${kept.join(", ")}`);
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
  if (o.status) await status(paths);
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
    const o: UpOptions = {
      stack: DEFAULT_STACK,
      continueOnError: false,
      overrides: { settings: {}, artifacts: {} },
      status: true,
    };
    for (let i = 0; i < rest.length; i++) {
      const option = rest[i];
      const value = rest[i + 1];
      if (option === "--continue-on-error") o.continueOnError = true;
      else if (option === "--no-status") o.status = false;
      else if (option === "--stack" && value !== undefined) o.stack = rest[++i];
      else if (option === "--set" && value !== undefined) {
        const [key, v] = parseAssignment(option, rest[++i]);
        o.overrides.settings[key] = v;
      } else if (option === "--artifact" && value !== undefined) {
        const [name, file] = parseAssignment(option, rest[++i]);
        o.overrides.artifacts[name] = file;
      } else throw new Error(USAGE);
    }
    return up(paths, o);
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

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
  mergeConfig,
  readStackConfig,
  SANDBOX_BRIDGE,
  sandboxOverlay,
  scalarSetting,
} from "./sandbox-config";
import { topologyFromOutputs } from "./topology";
import { loadState } from "./state";
import { logLine, seconds, step } from "./steps";

const USAGE = "usage: npm run sandbox -- up [--continue-on-error] | status | down [--purge]";
const STACK_FILE = "Pulumi.dev.yaml";
const PARALLELISM = 3;

function sandboxPackages(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only by `up`
  const packages = require("../../components/render/packages") as {
    allDebianPackages(): readonly string[];
  };
  return [...packages.allDebianPackages()];
}

function sandboxConfig(paths: SandboxPaths): Record<string, string> {
  return mergeConfig(readStackConfig(path.join(paths.repoRoot, STACK_FILE)), sandboxOverlay(paths));
}

async function up(paths: SandboxPaths, continueOnError: boolean): Promise<void> {
  const started = Date.now();
  const prepared = await prepareHost(paths, sandboxPackages());
  const config = sandboxConfig(paths);
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
  const config = sandboxConfig(paths);
  const topology = topologyFromOutputs(outputs, {
    pgDatabase: scalarSetting(config, "pgDatabase"),
    kafkaReplicationFactor: Number(scalarSetting(config, "kafkaReplicationFactor")),
  });
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
  if (
    command === "up" &&
    (rest.length === 0 || (rest.length === 1 && rest[0] === "--continue-on-error"))
  ) {
    return up(paths, rest.length === 1);
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

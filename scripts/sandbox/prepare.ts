import * as fs from "fs";
import * as path from "path";
import { ensureBridge } from "./bridge";
import { run, runChecked, tail } from "./exec";
import type { SandboxPaths } from "./paths";
import { artifactFiles, SANDBOX_BRIDGE } from "./sandbox-config";
import { logLine, step } from "./steps";

const HOST_TOOLS = [
  "lxc-start",
  "lxc-attach",
  "debootstrap",
  "apt-ftparchive",
  "ip",
  "mvn",
  "go",
  "npm",
];

export async function checkHost(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error("the sandbox must run as root (it creates LXC containers and a bridge)");
  const missing: string[] = [];
  for (const tool of HOST_TOOLS) {
    if ((await run("bash", ["-c", `command -v ${tool}`])).code !== 0) missing.push(tool);
  }
  if (missing.length > 0)
    throw new Error(
      `missing host tools: ${missing.join(", ")} (see README: sandbox prerequisites)`,
    );
}

/**
 * Builds the local artifacts. A missing one is reported by name and is not fatal here: the
 * program's step that pushes it fails with the missing path, and every step not depending on it runs.
 */
export async function prepareArtifacts(paths: SandboxPaths): Promise<void> {
  const r = await run("bash", [path.join(paths.repoRoot, "scripts", "artifacts", "all.sh")], {
    logFile: path.join(paths.logDir, "artifacts.log"),
  });
  logLine(tail(r.stdout, 10).replace(/^/gm, "    "));
  const missing = Object.entries(artifactFiles(paths)).filter(([, f]) => !fs.existsSync(f));
  for (const [name, file] of missing) {
    const what =
      name === "kafkaExporter" ? "not deployed (optional)" : "steps that push it will fail";
    logLine(
      `    WARNING: artifact ${name} is missing (${path.relative(paths.repoRoot, file)}): ${what}`,
    );
  }
}

export async function prepareBaseRootfs(paths: SandboxPaths): Promise<string> {
  const r = await runChecked(
    "bash",
    [path.join(paths.hostScriptsDir, "base-rootfs.sh"), paths.cacheDir],
    {
      logFile: path.join(paths.logDir, "base-rootfs.log"),
    },
  );
  return r.stdout.trim().split("\n").pop() ?? "";
}

export async function prepareAptRepo(
  paths: SandboxPaths,
  rootfs: string,
  packages: readonly string[],
): Promise<void> {
  const r = await runChecked(
    "bash",
    [path.join(paths.hostScriptsDir, "apt-repo.sh"), rootfs, paths.aptRepoDir, ...packages],
    {
      logFile: path.join(paths.logDir, "apt-repo.log"),
    },
  );
  logLine(`    ${tail(r.stdout, 1)}`);
}

export interface Prepared {
  readonly baseRootfs: string;
}

export async function prepareHost(
  paths: SandboxPaths,
  packages: readonly string[],
): Promise<Prepared> {
  await step("host prerequisites", checkHost);
  fs.mkdirSync(paths.logDir, { recursive: true });
  await step("artifacts (.cache/artifacts)", () => prepareArtifacts(paths));
  const baseRootfs = await step("Debian 12 base rootfs (.cache/sandbox)", () =>
    prepareBaseRootfs(paths),
  );
  await step(`offline apt repository (${packages.length} packages + dependencies)`, () =>
    prepareAptRepo(paths, baseRootfs, packages),
  );
  await step(`bridge ${SANDBOX_BRIDGE.name} ${SANDBOX_BRIDGE.subnet}`, async () => {
    logLine(`    ${await ensureBridge(SANDBOX_BRIDGE)}`);
    // The sandbox never enables forwarding or NAT; say so if the host forwards on its own.
    if (fs.readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim() !== "0") {
      logLine(
        "    WARNING: this host forwards IPv4 (net.ipv4.ip_forward=1); the containers' gateway is this host",
      );
    }
  });
  return { baseRootfs };
}

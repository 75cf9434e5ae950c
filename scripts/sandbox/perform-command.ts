import * as fs from "fs";
import * as path from "path";
import type { SandboxContext } from "./context";
import { run, tail } from "./exec";
import type { Performed } from "./monitor";

type Inputs = Record<string, unknown>;

/** The container a command talks to, from its `pct exec|push|pull|start|... <vmid>` line. */
export function vmidOfCommand(inputs: Inputs): string | undefined {
  const create = typeof inputs.create === "string" ? inputs.create : "";
  return /\bpct\s+(?:exec|push|pull|start|stop|shutdown|reboot|status)\s+(\d+)/.exec(create)?.[1];
}

function logFileFor(ctx: SandboxContext, name: string): string {
  fs.mkdirSync(ctx.paths.logDir, { recursive: true });
  return path.join(ctx.paths.logDir, `${name.replace(/[^A-Za-z0-9._-]/g, "_")}.log`);
}

const CONTAINER_TYPE = "proxmoxve:index/containerLegacy:ContainerLegacy";

/** The Proxmox host (node name) of a performed container, from the sandbox state. */
export function hostOfContainer(
  ctx: Pick<SandboxContext, "state">,
  vmid: string,
): string | undefined {
  const record = Object.values(ctx.state.resources).find(
    (r) => r.type === CONTAINER_TYPE && String(r.outputs.vmId) === vmid,
  );
  return typeof record?.outputs.nodeName === "string" ? record.outputs.nodeName : undefined;
}

/**
 * A remote command for a container must go to the host that holds it: its connection's host must
 * be that host's SSH address (what a real Proxmox cluster needs; here every host is this machine).
 */
export function checkCommandRoute(
  ctx: Pick<SandboxContext, "state" | "hostSsh">,
  name: string,
  inputs: Inputs,
): void {
  const vmid = vmidOfCommand(inputs);
  const connection = inputs.connection as { host?: unknown } | undefined;
  if (vmid === undefined || connection === undefined || ctx.hostSsh === undefined) return;
  const host = hostOfContainer(ctx, vmid);
  if (host === undefined) return;
  const expected = ctx.hostSsh[host];
  if (connection.host !== expected) {
    throw new Error(
      `command ${name}: container ${vmid} is on host ${host} (${String(expected)}) but the command was sent to ${String(connection.host)}`,
    );
  }
}

/** remote.Command / local.Command: runs `create` with bash here, stdin piped, the pct shim first on PATH. */
export async function performCommand(
  ctx: SandboxContext,
  name: string,
  inputs: Inputs,
): Promise<Performed> {
  const create = inputs.create;
  if (typeof create !== "string" || create.trim() === "") {
    return { id: name, outputs: { ...inputs, stdout: "", stderr: "" } };
  }
  checkCommandRoute(ctx, name, inputs);
  if (inputs.stdin !== undefined && typeof inputs.stdin !== "string") {
    throw new Error(`command ${name}: stdin is not text (got ${typeof inputs.stdin})`);
  }
  const logFile = logFileFor(ctx, name);
  fs.writeFileSync(logFile, `# ${new Date().toISOString()} ${name}\n`, { mode: 0o600 });
  const environment = (inputs.environment ?? {}) as Record<string, string>;
  const result = await run("bash", ["-c", create], {
    stdin: typeof inputs.stdin === "string" ? inputs.stdin : "",
    cwd: typeof inputs.dir === "string" ? inputs.dir : ctx.paths.repoRoot,
    env: {
      ...process.env,
      ...environment,
      PATH: `${ctx.paths.shimDir}:${process.env.PATH ?? ""}`,
      PVE_HA_SANDBOX_LXC_PATH: ctx.paths.lxcPath,
    },
    logFile,
    timeoutMs: 20 * 60 * 1000,
  });
  if (result.code !== 0) {
    throw new Error(
      `command ${name} exited ${result.code} (log: ${path.relative(ctx.paths.repoRoot, logFile)}); last lines:\n` +
        tail(result.stdout + result.stderr, 25),
    );
  }
  return { id: name, outputs: { ...inputs, stdout: result.stdout, stderr: result.stderr } };
}

/** remote.CopyToRemote: a local copy into the sandbox staging dir (the program's hostStagingDir). */
export async function performCopyToRemote(
  ctx: SandboxContext,
  name: string,
  inputs: Inputs,
): Promise<Performed> {
  const remotePath = path.resolve(String(inputs.remotePath ?? ""));
  const staging = path.resolve(ctx.paths.stagingDir);
  if (!remotePath.startsWith(staging + path.sep)) {
    throw new Error(
      `CopyToRemote ${name}: remotePath ${remotePath} is outside the sandbox staging dir ${staging}`,
    );
  }
  const source = (inputs.source ?? {}) as { assetPath?: string };
  if (!source.assetPath || !fs.existsSync(source.assetPath)) {
    throw new Error(`CopyToRemote ${name}: source file not found: ${String(source.assetPath)}`);
  }
  fs.mkdirSync(path.dirname(remotePath), { recursive: true });
  fs.cpSync(source.assetPath, remotePath, { recursive: true });
  return { id: name, outputs: { ...inputs } };
}

import { spawn } from "node:child_process";
import { pctVmid, sshPctArgv, sshTargetFor, type HostRouting, type SshTarget } from "./commandLine";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `pct` subcommands: the sandbox shim locally, or the real one on the Proxmox host over SSH. */
export interface Pct {
  run(args: readonly string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<ExecResult>;
}

function spawnCollect(
  cmd: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  stdin: string | undefined,
  timeoutMs: number,
): Promise<ExecResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      stderr += `\n(timed out after ${timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${e.message}`, ms: Date.now() - started });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin ?? "");
  });
}

export function localPct(pctPath: string, env: NodeJS.ProcessEnv): Pct {
  return {
    run: (args, opts = {}) =>
      spawnCollect(pctPath, args, env, opts.stdin, opts.timeoutMs ?? 60_000),
  };
}

export function sshPct(target: SshTarget): Pct {
  return {
    run: (args, opts = {}) =>
      spawnCollect(
        "ssh",
        sshPctArgv(target, args),
        process.env,
        opts.stdin,
        opts.timeoutMs ?? 60_000,
      ),
  };
}

/**
 * `pct` on the Proxmox host holding the container the command names (several hosts: each node's
 * `proxmoxNode` in the outputs picks its host's SSH address, port and user).
 */
export function hostRoutedPct(
  routing: HostRouting,
  options: readonly string[],
  userOverride?: string,
): Pct {
  return {
    run: async (args, opts = {}) => {
      const vmid = pctVmid(args);
      if (vmid === null) {
        throw new Error(`pct ${args.join(" ")}: names no container, so no host to run it on`);
      }
      return sshPct(sshTargetFor(routing, vmid, options, userOverride)).run(args, opts);
    },
  };
}

/** Runs a command in a container; throws with its stderr when it fails. */
export async function pctExec(
  pct: Pct,
  vmid: number,
  argv: readonly string[],
  opts: { stdin?: string; timeoutMs?: number } = {},
): Promise<string> {
  const r = await pct.run(["exec", String(vmid), "--", ...argv], opts);
  if (r.code !== 0) {
    throw new Error(
      `pct exec ${vmid} -- ${argv.join(" ")} failed (exit ${r.code}): ${r.stderr.trim().slice(-400)}`,
    );
  }
  return r.stdout;
}

/**
 * Command lines that run on the Proxmox host. The only two shapes that reach a container:
 * `pct exec <vmid> -- bash -s` (script on stdin) and `pct push` of a file staged on the host.
 */
import { shellQuote } from "./payload";

function requireVmid(vmid: number): void {
  if (!Number.isInteger(vmid) || vmid < 100)
    throw new Error(`vmid must be an integer >= 100 (got ${vmid})`);
}

function requireAbsolute(what: string, p: string): void {
  if (!p.startsWith("/") || p.includes("\n"))
    throw new Error(`${what} must be an absolute path (got "${p}")`);
}

function requireMode(mode: string): void {
  if (!/^0?[0-7]{3,4}$/.test(mode))
    throw new Error(`file mode must be octal like 0644 (got "${mode}")`);
}

/** Runs the script given on stdin inside the container. */
export function pctExecScript(vmid: number): string {
  requireVmid(vmid);
  return `pct exec ${vmid} -- bash -s`;
}

/** Runs an argument list inside the container. */
export function pctExec(vmid: number, argv: readonly string[]): string {
  requireVmid(vmid);
  if (argv.length === 0) throw new Error("pctExec needs a command");
  return `pct exec ${vmid} -- ${argv.map(shellQuote).join(" ")}`;
}

export interface PushOptions {
  mode?: string;
  owner?: string;
}

function pushArgs(vmid: number, src: string, dest: string, opts: PushOptions): string {
  requireVmid(vmid);
  requireAbsolute("destination", dest);
  const mode = opts.mode ?? "0644";
  requireMode(mode);
  const parts = ["pct", "push", String(vmid), src, shellQuote(dest), "--perms", mode];
  if (opts.owner !== undefined) {
    const match = /^([a-z_][a-z0-9_-]*|\d+)(?::([a-z_][a-z0-9_-]*|\d+))?$/.exec(opts.owner);
    if (!match) throw new Error(`owner must be user[:group] (got "${opts.owner}")`);
    parts.push("--user", match[1], "--group", match[2] ?? match[1]);
  }
  return parts.join(" ");
}

/**
 * Pushes stdin into the container as `dest`: staged in a private temp file on the host, which
 * is removed whatever happens. The parent directory is created first.
 */
export function pctPushStdin(vmid: number, dest: string, opts: PushOptions = {}): string {
  const dir = dest.replace(/\/[^/]*$/, "") || "/";
  return [
    "set -eu",
    `pct exec ${vmid} -- mkdir -p ${shellQuote(dir)}`,
    "tmp=$(mktemp)",
    "trap 'rm -f \"$tmp\"' EXIT",
    'cat >"$tmp"',
    pushArgs(vmid, '"$tmp"', dest, opts),
  ].join("\n");
}

/** Pushes a file already on the host (e.g. a staged artifact) into the container. */
export function pctPushFile(
  vmid: number,
  hostPath: string,
  dest: string,
  opts: PushOptions = {},
): string {
  requireAbsolute("host path", hostPath);
  const dir = dest.replace(/\/[^/]*$/, "") || "/";
  return [
    "set -eu",
    `pct exec ${vmid} -- mkdir -p ${shellQuote(dir)}`,
    pushArgs(vmid, shellQuote(hostPath), dest, opts),
  ].join("\n");
}

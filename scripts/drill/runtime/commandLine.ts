/** POSIX shell single-quoting of one argument. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface SshTarget {
  host: string;
  /** absent: ssh's own default (or the ssh config's) */
  port?: number;
  user: string;
  options: readonly string[];
}

/** What the outputs say about a stack's hosts and nodes, enough to route a `pct` command. */
export interface HostRouting {
  proxmoxHosts: Readonly<Record<string, { sshHost: string; sshPort: number; sshUser: string }>>;
  nodes: ReadonlyArray<{ name: string; vmid: number; proxmoxNode: string }>;
}

/**
 * The SSH target of the Proxmox host holding a container (its `proxmoxNode` in the outputs), with
 * that host's port and user; `userOverride` (--ssh-user) replaces the user of every host.
 */
export function sshTargetFor(
  routing: HostRouting,
  vmid: number,
  options: readonly string[],
  userOverride?: string,
): SshTarget {
  const node = routing.nodes.find((n) => n.vmid === vmid);
  if (!node) throw new Error(`no node of the stack has VMID ${vmid}`);
  const host = routing.proxmoxHosts[node.proxmoxNode];
  if (!host) {
    throw new Error(
      `node ${node.name}: its Proxmox host ${JSON.stringify(node.proxmoxNode)} is not in proxmoxHosts`,
    );
  }
  return { host: host.sshHost, port: host.sshPort, user: userOverride ?? host.sshUser, options };
}

/** The VMID a `pct` subcommand acts on (`exec 201 -- ...`, `stop 201`), or null (e.g. `list`). */
export function pctVmid(pctArgs: readonly string[]): number | null {
  const v = Number(pctArgs[1]);
  return pctArgs.length >= 2 && Number.isInteger(v) && v > 0 ? v : null;
}

/** argv of `ssh` running `pct <args>` on the Proxmox host (the remote shell gets one quoted string). */
export function sshPctArgv(target: SshTarget, pctArgs: readonly string[]): string[] {
  if (!/^[A-Za-z0-9._:-]+$/.test(target.host)) {
    throw new Error(
      `proxmoxHost is not a host name or address (got ${JSON.stringify(target.host)})`,
    );
  }
  if (!/^[a-z_][a-z0-9_-]*$/.test(target.user)) {
    throw new Error(`ssh user is not a valid user name (got ${JSON.stringify(target.user)})`);
  }
  if (target.port !== undefined && !(Number.isInteger(target.port) && target.port > 0)) {
    throw new Error(`ssh port is not a port number (got ${JSON.stringify(target.port)})`);
  }
  return [
    "-o",
    "BatchMode=yes",
    ...(target.port !== undefined ? ["-p", String(target.port)] : []),
    ...target.options.flatMap((o) => ["-o", o]),
    `${target.user}@${target.host}`,
    ["pct", ...pctArgs].map(shellQuote).join(" "),
  ];
}

/** Parses a systemd EnvironmentFile as renderAppEnv writes it (KEY="value" with \\ and \" escapes). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`env file: cannot parse line ${JSON.stringify(line)}`);
    const v = m[2];
    out[m[1]] =
      v.startsWith('"') && v.endsWith('"') && v.length >= 2
        ? v.slice(1, -1).replace(/\\(.)/g, "$1")
        : v;
  }
  return out;
}

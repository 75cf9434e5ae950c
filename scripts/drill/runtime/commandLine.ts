/** POSIX shell single-quoting of one argument. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface SshTarget {
  host: string;
  user: string;
  options: readonly string[];
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
  return [
    "-o",
    "BatchMode=yes",
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

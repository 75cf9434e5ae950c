/**
 * The README's deploy steps as data: the "## Deploy" section's first bash block, split into the
 * shell lines a user runs as written, the `pulumi config set` lines (what they set), and the other
 * `pulumi` lines (they need the Pulumi engine and a Proxmox host).
 */

export interface ConfigSet {
  key: string;
  /** The value as written; null when it is read from a file or standard input. */
  value: string | null;
  secret: boolean;
}

export interface DeploySteps {
  shell: string[];
  configSets: ConfigSet[];
  engineOnly: string[];
}

function deployBlock(readme: string): string[] {
  const section = /^## Deploy\s*$/m.exec(readme);
  if (!section) throw new Error("README has no '## Deploy' section");
  const rest = readme.slice(section.index);
  const block = /```bash\n([\s\S]*?)```/.exec(rest);
  if (!block) throw new Error("README's Deploy section has no bash block");
  return block[1].split("\n");
}

/** A shell word list of a simple command line (single quotes and plain words). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function stripComment(line: string): string {
  // A # that starts a word begins a comment (no # inside the quoted values of this block).
  return line.replace(/(^|\s)#.*$/, "").trim();
}

/** `… < file` at the end of a command: the value comes from a file. */
const STDIN_REDIRECT = /\s<\s*[^\s<>]+\s*$/;

function configSetsOf(command: string): ConfigSet[] {
  const fromFile = STDIN_REDIRECT.test(command);
  const w = words(command.replace(STDIN_REDIRECT, ""));
  const secret = w.includes("--secret");
  const args = w.slice(3).filter((x) => x !== "--secret" && x !== "--path");
  return [{ key: args[0], value: fromFile ? null : (args[1] ?? null), secret }];
}

export function parseDeploySteps(readme: string): DeploySteps {
  const steps: DeploySteps = { shell: [], configSets: [], engineOnly: [] };
  for (const raw of deployBlock(readme)) {
    const line = stripComment(raw);
    if (line === "") continue;
    // `a && b` chains of pulumi commands are split; shell lines stay whole.
    const parts = line.split(/\s*&&\s*/);
    if (!parts.some((p) => p.startsWith("pulumi "))) {
      steps.shell.push(line);
      continue;
    }
    for (const part of parts) {
      if (part.startsWith("pulumi config set ")) steps.configSets.push(...configSetsOf(part));
      else if (part.startsWith("pulumi ")) steps.engineOnly.push(part);
      else steps.shell.push(part);
    }
  }
  return steps;
}

/** A value the user is meant to replace, like `https://<host>:8006/`. */
export function isPlaceholder(value: string | null): boolean {
  return value === null || /<[^>]+>/.test(value);
}

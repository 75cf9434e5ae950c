/**
 * The secrets check inside a container (pure parts): a bash script that takes the secret values
 * on stdin (never on a command line) and prints only counts, paths and modes — never a value —
 * and its parser. A world-readable file that contains a secret, a secret in a process's arguments
 * or in the journal is a finding.
 */

/** Values shorter than this are not searched for (an empty line would match everything). */
export const MIN_SECRET_LENGTH = 8;
/** Where world-readable files are searched (the apt mirror under /srv and /proc, /sys are not). */
export const SEARCHED_DIRS = ["/etc", "/opt", "/root", "/home", "/var/lib", "/var/log", "/run"];

export interface FileMode {
  path: string;
  /** octal, e.g. "640" */
  mode: string;
  owner: string;
  worldReadable: boolean;
}

export interface NodeSecretFindings {
  node: string;
  /** lines of `ps -eo args` holding a secret */
  psHits: number;
  /** lines of the journal holding a secret */
  journalHits: number;
  /** world-readable files holding a secret */
  readableWithSecret: string[];
  /** the known credential files of the node that exist, with their modes */
  credentialFiles: FileMode[];
}

/** The distinct secret values worth searching for, one per line (no line breaks inside). */
export function secretLines(values: ReadonlyArray<string | undefined>): string {
  const kept = [
    ...new Set(
      values.filter(
        (v): v is string =>
          typeof v === "string" && v.length >= MIN_SECRET_LENGTH && !/[\r\n]/.test(v),
      ),
    ),
  ];
  return kept.map((v) => `${v}\n`).join("");
}

const SAFE_PATH = /^\/[A-Za-z0-9._\/@+-]+$/;

/** The script: secrets on stdin; `credentialFiles` are stat'ed when they exist. */
export function renderSecretsScript(credentialFiles: readonly string[]): string {
  for (const f of credentialFiles) {
    if (!SAFE_PATH.test(f)) throw new Error(`secrets check: bad path ${JSON.stringify(f)}`);
  }
  return [
    "set -u",
    'f="$(mktemp)"',
    'chmod 600 "$f"',
    "trap 'rm -f \"$f\"' EXIT",
    'cat >"$f"',
    '[ -s "$f" ] || { echo "no secrets given" >&2; exit 3; }',
    "# shellcheck disable=SC2009 # every process's arguments are searched, not one process",
    'echo "ps $(ps -eo args | grep -F -c -f "$f" || true)"',
    'echo "journal $( (journalctl -q --no-pager -o cat 2>/dev/null || true) | grep -F -c -f "$f" || true)"',
    `find ${SEARCHED_DIRS.join(" ")} -xdev -type f -perm -o=r -size -4M -print0 2>/dev/null |`,
    '  xargs -0 -r grep -l -F -f "$f" 2>/dev/null | sed "s/^/readable /" || true',
    ...credentialFiles.map((p) => `[ ! -e ${p} ] || stat -c 'mode %a %U:%G %n' ${p}`),
    "",
  ].join("\n");
}

/** The script's output of one node. */
export function parseSecretsOutput(node: string, text: string): NodeSecretFindings {
  const out: NodeSecretFindings = {
    node,
    psHits: NaN,
    journalHits: NaN,
    readableWithSecret: [],
    credentialFiles: [],
  };
  for (const line of text.split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = /^ps (\d+)$/.exec(line))) out.psHits = Number(m[1]);
    else if ((m = /^journal (\d+)$/.exec(line))) out.journalHits = Number(m[1]);
    else if ((m = /^readable (\/.*)$/.exec(line))) out.readableWithSecret.push(m[1]);
    else if ((m = /^mode ([0-7]{3,4}) (\S+) (\/\S+)$/.exec(line))) {
      out.credentialFiles.push({
        path: m[3],
        mode: m[1],
        owner: m[2],
        worldReadable: (Number.parseInt(m[1], 8) & 0o004) !== 0,
      });
    }
  }
  if (Number.isNaN(out.psHits) || Number.isNaN(out.journalHits)) {
    throw new Error(`secrets check on ${node}: no ps/journal counts in its output`);
  }
  return out;
}

/** A node passes when no secret shows anywhere and no credential file is world-readable. */
export function secretsClean(f: NodeSecretFindings): boolean {
  return (
    f.psHits === 0 &&
    f.journalHits === 0 &&
    f.readableWithSecret.length === 0 &&
    f.credentialFiles.every((c) => !c.worldReadable)
  );
}

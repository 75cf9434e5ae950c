import * as fs from "fs";
import * as path from "path";

/** Directory of the payload bodies and lib.sh. */
export const PAYLOAD_DIR = path.resolve(__dirname, "..", "..", "scripts", "payloads");

export type PayloadVars = Record<string, string | number | boolean>;

const VAR_NAME = /^[A-Z][A-Z0-9_]*$/;
const PAYLOAD_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Bash single-quoted literal of any string (embedded quotes become '\''). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function readPayloadBody(name: string): string {
  if (!PAYLOAD_NAME.test(name)) throw new Error(`payload name is invalid (got "${name}")`);
  const file = path.join(PAYLOAD_DIR, `${name}.sh`);
  if (!fs.existsSync(file)) throw new Error(`payload "${name}" not found (no ${name}.sh)`);
  return fs.readFileSync(file, "utf8");
}

/** A payload body without its own shebang/strict-mode lines (renderPayload adds them once). */
function stripPreamble(body: string): string {
  return body
    .split("\n")
    .filter((line) => !/^#!/.test(line) && !/^set -Eeuo pipefail\s*$/.test(line))
    .join("\n")
    .replace(/^\n+/, "");
}

/** `readonly NAME='value'` lines, in sorted order so equal vars give equal text. */
export function renderVars(vars: PayloadVars): string {
  return Object.keys(vars)
    .sort()
    .map((name) => {
      if (!VAR_NAME.test(name)) throw new Error(`payload variable name is invalid (got "${name}")`);
      const value = vars[name];
      return `readonly ${name}=${shellQuote(String(value))}`;
    })
    .join("\n");
}

/**
 * The script that runs in a container: shebang, strict mode, the variables, lib.sh, the body.
 * Pure apart from reading the payload files of this repository.
 */
export function renderPayload(name: string, vars: PayloadVars = {}): string {
  const lib = stripPreamble(readPayloadBody("lib"));
  const body = stripPreamble(readPayloadBody(name));
  const varLines = renderVars(vars);
  return [
    "#!/usr/bin/env bash",
    `# payload: ${name}`,
    "# Not every payload uses every variable of lib.sh and of its own variable block.",
    "# Variable values are literal text and may contain $ (e.g. Prometheus templates).",
    "# shellcheck disable=SC2034,SC2016",
    "set -Eeuo pipefail",
    ...(varLines ? [varLines] : []),
    "# --- lib.sh ---",
    lib.trimEnd(),
    `# --- ${name}.sh ---`,
    body.trimEnd(),
    "",
  ].join("\n");
}

/** Names of every payload body (scripts/payloads/*.sh except lib.sh). */
export function payloadNames(): string[] {
  return fs
    .readdirSync(PAYLOAD_DIR)
    .filter((f) => f.endsWith(".sh") && f !== "lib.sh")
    .map((f) => f.slice(0, -3))
    .sort();
}

import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** One performed resource: the hash of its inputs and the outputs it returned. */
export interface ResourceRecord {
  readonly type: string;
  readonly hash: string;
  readonly id: string;
  readonly outputs: Record<string, unknown>;
  readonly at: string;
}

export interface SandboxState {
  readonly version: 1;
  resources: Record<string, ResourceRecord>;
}

export function emptyState(): SandboxState {
  return { version: 1, resources: {} };
}

export function loadState(file: string): SandboxState {
  if (!fs.existsSync(file)) return emptyState();
  const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<SandboxState>;
  if (parsed.version !== 1 || typeof parsed.resources !== "object" || parsed.resources === null) {
    throw new Error(`unreadable sandbox state (version ${String(parsed.version)}): ${file}`);
  }
  return { version: 1, resources: parsed.resources };
}

/** Written after every resource (atomically, owner-only: it holds generated passwords). */
export function saveState(file: string, state: SandboxState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function resourceKey(type: string, name: string): string {
  return `${type}::${name}`;
}

/** JSON with sorted object keys, so equal inputs always give equal text. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export function hashInputs(type: string, inputs: unknown): string {
  return createHash("sha256")
    .update(type)
    .update("\0")
    .update(stableStringify(inputs))
    .digest("hex");
}

import { parse } from "yaml";
import { CONFIG_NAMESPACE, PROVIDER_KEYS } from "./schema";
import type { RawConfig } from "./validate";

/**
 * Placeholder secrets for running the example stack without the Pulumi CLI (mock tests, the
 * rendered-config check, the sandbox). They are not credentials of anything.
 */
export const PLACEHOLDER_SECRETS: Readonly<RawConfig> = {
  "proxmoxve:apiToken": "placeholder@pve!example=00000000-0000-0000-0000-000000000000",
  proxmoxSshPrivateKey: "placeholder-private-key",
};

/**
 * The raw settings of a stack file (Pulumi.<stack>.yaml) as loadConfig would see them: keys of
 * the project namespace without prefix, the provider keys the program reads, scalars as strings,
 * objects as JSON. Encrypted (`secure:`) values are left out.
 */
export function rawConfigFromStackYaml(text: string): RawConfig {
  const doc = parse(text) as { config?: Record<string, unknown> } | null;
  const raw: RawConfig = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [key, value] of Object.entries(doc?.config ?? {})) {
    if (value !== null && typeof value === "object" && "secure" in value) continue;
    let short: string;
    if (key.startsWith(prefix)) short = key.slice(prefix.length);
    else if (PROVIDER_KEYS.includes(key)) short = key;
    else continue;
    raw[short] =
      typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  }
  return raw;
}

/** Pulumi runtime config map (`<namespace>:<key>` -> string) of raw settings, for setAllConfig. */
export function runtimeConfigOf(raw: RawConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    const full = key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`;
    out[full] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

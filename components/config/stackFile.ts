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
  const plain = Object.entries(doc?.config ?? {}).filter(
    ([, value]) => !(value !== null && typeof value === "object" && "secure" in value),
  );
  return rawConfigOfRuntime(
    Object.fromEntries(
      plain.map(([key, value]) => [
        key,
        typeof value === "object" && value !== null ? JSON.stringify(value) : String(value),
      ]),
    ),
  );
}

/**
 * Raw settings of a Pulumi runtime config map (`<namespace>:<key>` -> string), the inverse of
 * runtimeConfigOf: the project's keys without prefix and the provider keys the program reads.
 */
export function rawConfigOfRuntime(config: Record<string, string>): RawConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: RawConfig = {};
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    else if (PROVIDER_KEYS.includes(key)) raw[key] = value;
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

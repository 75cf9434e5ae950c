import * as pulumi from "@pulumi/pulumi";
import { missingArtifactProblems } from "../artifacts";
import { CONFIG_NAMESPACE, PROVIDER_KEYS } from "./schema";
import type { StackConfig } from "./types";
import { formatConfigErrors, parseConfig, type RawConfig } from "./validate";

/**
 * Every key set in the stack's namespace plus the provider keys the program needs, as raw values
 * (objects parsed from JSON by parseConfig). Unknown keys are kept so typos are reported.
 */
export function rawConfigOf(config: pulumi.Config): RawConfig {
  const raw: RawConfig = {};
  const prefix = `${config.name}:`;
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    if (fullKey.startsWith(prefix)) {
      const key = fullKey.slice(prefix.length);
      raw[key] = config.get(key);
    }
  }
  for (const fullKey of PROVIDER_KEYS) {
    const [namespace, key] = fullKey.split(":");
    const value = new pulumi.Config(namespace).get(key);
    if (value !== undefined) raw[fullKey] = value;
  }
  return raw;
}

/**
 * Reads and validates the stack configuration, and checks that every local artifact it would push
 * exists; throws one Error listing every problem, before any resource is registered.
 */
export function loadConfig(
  config: pulumi.Config = new pulumi.Config(CONFIG_NAMESPACE),
): StackConfig {
  const { config: parsed, errors } = parseConfig(rawConfigOf(config));
  if (!parsed) throw new Error(formatConfigErrors(errors));
  const missing = missingArtifactProblems(parsed);
  if (missing.length > 0) throw new Error(formatConfigErrors(missing));
  return parsed;
}

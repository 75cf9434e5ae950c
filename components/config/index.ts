export * from "./types";
export * from "./schema";
export * from "./net";
export * from "./plan";
export {
  LIMITS,
  formatConfigErrors,
  parseConfig,
  shown,
  validateConfig,
  type RawConfig,
} from "./validate";
export { loadConfig, rawConfigOf } from "./load";
export * from "./ports";
export * from "./endpoints";
export {
  PLACEHOLDER_SECRETS,
  rawConfigFromStackYaml,
  rawConfigOfRuntime,
  runtimeConfigOf,
} from "./stackFile";

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

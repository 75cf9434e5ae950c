import { pgParameterProblem } from "../render/postgres";
import type { Problems } from "./problems";

/**
 * pgParameters: `{ <parameter>: <value> }`, extra PostgreSQL parameters rendered into
 * conf.d/pve-ha.conf. A value may be a string, a number or a boolean (YAML) and is kept as text;
 * names the stack sets itself (render/postgres.ts PG_OWNED_PARAMETERS) are refused.
 */
export function parsePgParameters(
  value: Record<string, unknown>,
  p: Problems,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) {
    const key = `pgParameters.${name}`;
    if (typeof raw !== "string" && typeof raw !== "boolean" && !Number.isFinite(raw)) {
      p.add(key, "must be a string (or a number or boolean)", raw);
      continue;
    }
    const text = String(raw);
    const problem = pgParameterProblem(name, text);
    if (problem) p.add(key, problem, raw);
    else out[name] = text;
  }
  return out;
}

/**
 * `pulumi preview` as far as it can run without the engine: a stack file plus `key=value`
 * settings, the program under Pulumi mocks in preview mode (every output of a new resource
 * unknown), then the checks of test/unit/preview-walk.ts. Missing secrets get placeholders.
 * Usage: ts-node scripts/ci/preview-stack.ts <Pulumi.<stack>.yaml> [key=value ...]
 */
import * as fs from "fs";
import {
  PLACEHOLDER_SECRETS,
  rawConfigFromStackYaml,
  type RawConfig,
} from "../../components/config";
import { runProgram } from "../../test/unit/program-harness";
import { previewProblems } from "../../test/unit/preview-walk";

async function main(argv: string[]): Promise<number> {
  const [stackFile, ...sets] = argv;
  if (!stackFile) {
    console.error("usage: preview-stack.ts <stack file> [key=value ...]");
    return 2;
  }
  const raw: RawConfig = {
    ...PLACEHOLDER_SECRETS,
    ...rawConfigFromStackYaml(fs.readFileSync(stackFile, "utf8")),
  };
  for (const set of sets) {
    const eq = set.indexOf("=");
    if (eq < 1) {
      console.error(`preview-stack: not key=value (got "${set}")`);
      return 2;
    }
    raw[set.slice(0, eq)] = set.slice(eq + 1);
  }
  const run = await runProgram(raw, { preview: true });
  const problems = await previewProblems(run);
  console.log(
    `preview under mocks: ${run.resources.length} resources, ${problems.length} problems`,
  );
  for (const p of problems) console.log(`  - ${p}`);
  return problems.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);

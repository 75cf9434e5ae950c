/**
 * Writes every container's nftables ruleset of the example stack (Pulumi.dev.yaml) into
 * <out-dir>/<node>.nft for `nft -c -f`: `ts-node scripts/ci/render-nftables.ts <out-dir>`.
 */
import * as fs from "fs";
import * as path from "path";
import { parseConfig, planNodes } from "../../components/config";
import { exposureOptionsOf, exposureRules } from "../../components/config/exposure";
import { renderAllNodeFirewalls } from "../../components/render/nftables";
import { exampleRaw } from "../../test/unit/program-harness";

function main(): void {
  const out = process.argv[2];
  if (!out) throw new Error("usage: render-nftables.ts <out-dir>");
  const { config, errors } = parseConfig(exampleRaw());
  if (!config) throw new Error(`example stack config is invalid:\n  - ${errors.join("\n  - ")}`);
  const plans = planNodes(config);
  const files = renderAllNodeFirewalls(plans, exposureRules(plans, exposureOptionsOf(config)));
  fs.mkdirSync(out, { recursive: true });
  for (const [node, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(out, `${node}.nft`), text);
  }
  console.log(`rendered ${Object.keys(files).length} nftables rulesets into ${out}`);
}

try {
  main();
} catch (err: unknown) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}

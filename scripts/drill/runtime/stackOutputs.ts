import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { DrillTarget } from "../args";
import { parseStackOutputs, type StackOutputs } from "../outputs";
import { sandboxPaths } from "../../sandbox/paths";

/**
 * The /admin password: from the outputs when they carry secrets (the sandbox's file), else asked
 * of Pulumi alone (`pulumi stack output --show-secrets adminPassword`, never written anywhere).
 */
export function adminPasswordOf(outputs: StackOutputs, target: DrillTarget): string {
  if (outputs.adminPassword) return outputs.adminPassword;
  if (target === "sandbox") {
    throw new Error("the sandbox outputs have no adminPassword (run `npm run sandbox -- up`)");
  }
  const r = spawnSync("pulumi", ["stack", "output", "--show-secrets", "adminPassword"], {
    encoding: "utf8",
  });
  const password = r.stdout?.trim() ?? "";
  if (r.error || r.status !== 0 || password === "") {
    throw new Error(
      `pulumi stack output --show-secrets adminPassword failed: ${r.error?.message ?? r.stderr.trim()}`,
    );
  }
  return password;
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

/**
 * The stack outputs of a target: the given file, else the sandbox's .sandbox/outputs.json, else
 * `pulumi stack output --json` of the selected stack.
 */
export function readStackOutputs(opts: {
  target: DrillTarget;
  outputsFile?: string;
}): StackOutputs {
  if (opts.outputsFile) return parseStackOutputs(readFileSync(opts.outputsFile, "utf8"));
  if (opts.target === "sandbox") {
    const file = sandboxPaths(REPO_ROOT).outputsFile;
    try {
      return parseStackOutputs(readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(
        `cannot read the sandbox outputs (run \`npm run sandbox -- up\` first): ${(e as Error).message}`,
      );
    }
  }
  const r = spawnSync("pulumi", ["stack", "output", "--json"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(`pulumi stack output --json failed: ${r.error?.message ?? r.stderr.trim()}`);
  }
  return parseStackOutputs(r.stdout);
}

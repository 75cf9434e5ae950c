/**
 * Follows the README's deploy steps literally on a fresh clone of the committed tree: every shell
 * line runs as written, in order, in one bash; the `pulumi config set` values are applied to the
 * example stack; the engine's own commands (`pulumi stack select`, `pulumi up`) cannot run without
 * the Pulumi engine and a Proxmox host, so the program is previewed under mocks instead (preview
 * mode: unknown outputs, secret triggers and asset files checked). Exits non-zero on any failure.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isPlaceholder, parseDeploySteps } from "./readmeDeploy";

const root = path.resolve(__dirname, "..", "..");

function main(): number {
  const steps = parseDeploySteps(fs.readFileSync(path.join(root, "README.md"), "utf8"));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "pve-ha-readme-deploy-"));
  const clone = path.join(work, "pve-ha-stack");
  try {
    execFileSync("git", ["clone", "--quiet", root, clone], { stdio: "inherit" });
    console.log(
      `README deploy steps, as written, in a fresh clone:\n  ${steps.shell.join("\n  ")}`,
    );
    const shell = spawnSync("bash", ["-Eeuo", "pipefail", "-c", steps.shell.join("\n")], {
      cwd: clone,
      stdio: "inherit",
    });
    if (shell.status !== 0) {
      console.error(`README deploy steps failed (exit status ${shell.status})`);
      return 1;
    }
    const sets = steps.configSets
      .filter((s) => !isPlaceholder(s.value))
      .map((s) => `${s.key}=${s.value}`);
    const kept = steps.configSets.filter((s) => isPlaceholder(s.value)).map((s) => s.key);
    console.log(`pulumi config set applied: ${sets.join(" ")}`);
    console.log(`placeholders (the example stack's value or a stand-in secret): ${kept.join(" ")}`);
    console.log(`not run here (Pulumi engine and a Proxmox host): ${steps.engineOnly.join("; ")}`);
    const preview = spawnSync(
      path.join(clone, "node_modules/.bin/ts-node"),
      ["scripts/ci/preview-stack.ts", "Pulumi.dev.yaml", ...sets],
      { cwd: clone, stdio: "inherit" },
    );
    return preview.status ?? 1;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

process.exit(main());

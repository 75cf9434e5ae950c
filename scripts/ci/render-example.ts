/**
 * Runs the program for the example stack (Pulumi.dev.yaml + placeholder secrets) under Pulumi
 * mocks and writes what it would send to the Proxmox host into <out-dir>:
 *   payloads/<step>.sh   every script run with `pct exec <vmid> -- bash -s` (exact stdin)
 *   files/<step>         every file pushed with `pct push` from stdin
 * The real-tool checks (scripts/ci/check-rendered.sh) read the deployed configs out of these.
 */
import * as fs from "fs";
import * as path from "path";
import { exampleRaw, reveal, runProgram } from "../../test/unit/program-harness";

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error("usage: render-example.ts <out-dir>");
  const run = await runProgram(exampleRaw());
  let payloads = 0;
  let files = 0;
  for (const r of run.resources) {
    if (r.type !== "command:remote:Command") continue;
    const create = String(reveal(r.inputs.create) ?? "");
    const stdin = reveal(r.inputs.stdin);
    if (typeof stdin !== "string") continue;
    const kind = /^pct exec \d+ -- bash -s$/.test(create) ? "payloads" : /pct push/.test(create) ? "files" : "";
    if (!kind) continue;
    const file = path.join(out, kind, kind === "payloads" ? `${r.name}.sh` : r.name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, stdin);
    if (kind === "payloads") payloads++;
    else files++;
  }
  console.log(`rendered ${payloads} payloads and ${files} pushed files into ${out}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

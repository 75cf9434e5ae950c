/**
 * Checks a program run in preview mode for what the real engine and providers reject at
 * `pulumi preview` but Pulumi mocks accept: a secret whose value is unknown inside `triggers`
 * (the command provider's input check: "malformed secret: missing value"), and a file asset or
 * archive whose local file does not exist (the engine hashes it when it is registered).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { secretInput, type ProgramRun } from "./program-harness";

function containsUnknown(value: unknown): boolean {
  if (pulumi.isUnknown(value)) return true;
  const s = secretInput(value);
  if (s.secret) return containsUnknown(s.value);
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === "object" && value !== null && !pulumi.asset.Asset.isInstance(value)) {
    return Object.values(value).some(containsUnknown);
  }
  return false;
}

/** Paths (in the inputs) of every secret that wraps an unknown value. */
function secretUnknowns(value: unknown, at: string): string[] {
  const s = secretInput(value);
  if (s.secret) return containsUnknown(s.value) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => secretUnknowns(v, `${at}[${i}]`));
  if (typeof value === "object" && value !== null && !pulumi.asset.Asset.isInstance(value)) {
    return Object.entries(value).flatMap(([k, v]) => secretUnknowns(v, `${at}.${k}`));
  }
  return [];
}

/** Every file asset or archive in the inputs, with where it sits. */
function fileAssets(value: unknown, at: string): Array<{ at: string; file: Promise<string> }> {
  if (value instanceof pulumi.asset.FileAsset || value instanceof pulumi.asset.FileArchive) {
    return [{ at, file: value.path }];
  }
  const s = secretInput(value);
  if (s.secret) return fileAssets(s.value, at);
  if (Array.isArray(value)) return value.flatMap((v, i) => fileAssets(v, `${at}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => fileAssets(v, `${at}.${k}`));
  }
  return [];
}

/** One line per problem, naming the resource and the input; [] when the preview would pass. */
export async function previewProblems(
  run: Pick<ProgramRun, "resources">,
  cwd: string = process.cwd(),
): Promise<string[]> {
  const problems: string[] = [];
  for (const r of run.resources) {
    for (const at of secretUnknowns(r.inputs.triggers, "triggers")) {
      problems.push(`${r.name} (${r.type}): ${at} is a secret whose value is unknown at preview`);
    }
    for (const asset of fileAssets(r.inputs, "inputs")) {
      const file = await asset.file;
      if (!fs.existsSync(path.resolve(cwd, file))) {
        problems.push(`${r.name} (${r.type}): ${asset.at} names a missing file (${file})`);
      }
    }
  }
  return problems;
}

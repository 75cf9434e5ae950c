import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { SandboxContext } from "./context";
import { PerformingMonitor } from "./monitor";

/** Resolves one exported value (deeply, secrets unwrapped) under the mock runtime. */
function resolveExport(value: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const out: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<unknown>);
    out.apply((v: unknown) => {
      resolve(v);
      return v;
    });
    // An export whose resource failed never applies: surface the failure instead.
    (out as unknown as { promise(): Promise<unknown> }).promise().catch(reject);
  });
}

export interface ProgramRun {
  readonly outputs: Record<string, unknown>;
  readonly performed: number;
  readonly skipped: number;
}

/**
 * Runs the project's index.ts under Pulumi's mock runtime with a monitor that performs each
 * resource, and returns the stack outputs (like `pulumi stack output --json --show-secrets`).
 */
export async function runProgram(
  ctx: SandboxContext,
  config: Record<string, string>,
  secretKeys: string[],
  programFile: string = path.join(ctx.paths.repoRoot, "index.ts"),
): Promise<ProgramRun> {
  const monitor = new PerformingMonitor(ctx);
  // A failed resource rejects the registrations that depend on it; the monitor already recorded
  // the cause, so these rejections are reported once below instead of crashing the process.
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on("unhandledRejection", onRejection);
  await pulumi.runtime.setMocks(monitor, "pve-ha-stack", "sandbox", false);
  pulumi.runtime.setAllConfig(config, secretKeys);
  let outputs: Record<string, unknown> = {};
  let exportError: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program is loaded at run time, after the mocks
    const program = require(programFile) as Record<string, unknown>;
    const entries = await Promise.all(
      Object.entries(program).map(async ([k, v]) => [k, await resolveExport(v)] as const),
    );
    outputs = Object.fromEntries(entries);
  } catch (e) {
    exportError = e;
  }
  // Resources that feed no export may still be registering: wait for the runtime's RPC queue too.
  await monitor.idle();
  await pulumi.runtime.disconnect();
  await monitor.idle();
  process.off("unhandledRejection", onRejection);
  const failure = monitor.firstFailure ?? exportError ?? rejections[0];
  if (failure) {
    const message = failure instanceof Error ? failure.message : String(failure);
    const failed = monitor.failures.map((k) => k.split("::").pop()).join(", ");
    throw new Error(failed ? `failed: ${failed}\nfirst failure: ${message}` : message);
  }
  return { outputs, performed: monitor.performed.length, skipped: monitor.skipped.length };
}

import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { SandboxContext } from "./context";
import { KeyedMutex, Semaphore } from "./limits";
import { containerState } from "./lxc";
import { hashInputs, resourceKey, saveState } from "./state";
import { performCommand, performCopyToRemote, vmidOfCommand } from "./perform-command";
import { performContainer, performTemplate } from "./perform-container";
import { performRandomPassword, performRandomUuid } from "./perform-random";

type Inputs = Record<string, unknown>;
export interface Performed {
  readonly id: string;
  readonly outputs: Inputs;
}
type Performer = (ctx: SandboxContext, name: string, inputs: Inputs) => Promise<Performed>;

const PERFORMERS: Record<string, Performer> = {
  "proxmoxve:index/containerLegacy:ContainerLegacy": performContainer,
  "proxmoxve:download/file:File": performTemplate,
  "command:remote:Command": performCommand,
  "command:local:Command": performCommand,
  "command:remote:CopyToRemote": performCopyToRemote,
  "random:index/randomPassword:RandomPassword": performRandomPassword,
  "random:index/randomUuid:RandomUuid": performRandomUuid,
};

const COMMAND_TYPES = new Set([
  "command:remote:Command",
  "command:local:Command",
  "command:remote:CopyToRemote",
]);

/** Inputs that do not change what a resource does here (SSH connection to the Proxmox host). */
function hashableInputs(inputs: Inputs): Inputs {
  return Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== "connection"));
}

/** How the mock runtime passes a secret value: `{ [SECRET_SIG_KEY]: SECRET_SIG, value }`. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretWrapper(value: unknown): value is { value: unknown } {
  return (
    value !== null &&
    typeof value === "object" &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/**
 * Plain values of a resource's inputs: secrets unwrapped (the resource must see them, as the real
 * provider does) and assets (whose path is a promise) resolved, so they can be hashed.
 */
async function plainInputs(value: unknown): Promise<unknown> {
  if (isSecretWrapper(value)) return plainInputs(value.value);
  const isAsset: boolean =
    pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value);
  if (isAsset) {
    const p = (value as { path?: Promise<string> }).path;
    if (!p) throw new Error("the sandbox supports only file assets and archives");
    const file = await p;
    if (!fs.existsSync(file)) return { assetPath: file, missing: true };
    const st = fs.statSync(file);
    return { assetPath: file, size: st.size, mtimeMs: st.mtimeMs };
  }
  if (Array.isArray(value)) return Promise.all(value.map(plainInputs));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await plainInputs(v)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** A resource refused because an earlier one failed: not a failure of its own. */
class NotRunAfterFailure extends Error {}

/**
 * A Pulumi mock monitor that performs each resource on this machine. Registration of a resource
 * waits for its inputs and dependencies, so resources run in the program's own order. After the
 * first failure no resource starts (unless continueOnError); the ones already running finish.
 */
export class PerformingMonitor implements pulumi.runtime.Mocks {
  private readonly slots: Semaphore;
  private readonly perContainer = new KeyedMutex();
  private failure: Error | undefined;
  readonly failures: string[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  readonly performed: string[] = [];
  readonly skipped: string[] = [];

  constructor(private readonly ctx: SandboxContext) {
    this.slots = new Semaphore(ctx.parallelism);
  }

  get firstFailure(): Error | undefined {
    return this.failure;
  }

  /**
   * Resolves once every registration that reached the monitor has settled, including ones still
   * resolving their inputs or waiting for a slot (after the program registered everything).
   */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    throw new Error(`the sandbox does not implement the function ${args.token}`);
  }

  async newResource(
    args: pulumi.runtime.MockResourceArgs,
  ): Promise<pulumi.runtime.MockResourceResult> {
    const registration = this.register(args);
    this.inFlight.add(registration);
    try {
      return await registration;
    } finally {
      this.inFlight.delete(registration);
    }
  }

  private refuseAfterFailure(name: string): void {
    if (this.failure && !this.ctx.continueOnError) {
      throw new NotRunAfterFailure(`not run after an earlier failure: ${name}`);
    }
  }

  private async register(
    args: pulumi.runtime.MockResourceArgs,
  ): Promise<pulumi.runtime.MockResourceResult> {
    const inputs = (await plainInputs(args.inputs)) as Inputs;
    const performer = PERFORMERS[args.type];
    if (!performer) {
      if (args.custom && !args.type.startsWith("pulumi:providers:")) {
        throw new Error(`the sandbox cannot perform resource type ${args.type} (${args.name})`);
      }
      return { id: args.custom ? `${args.name}_id` : undefined, state: inputs };
    }
    this.refuseAfterFailure(args.name);
    const key = resourceKey(args.type, args.name);
    const hash = hashInputs(args.type, hashableInputs(inputs));
    const previous = this.ctx.state.resources[key];
    if (previous && previous.hash === hash && (await this.stillValid(args.type, inputs))) {
      this.skipped.push(key);
      return { id: previous.id, state: previous.outputs };
    }
    try {
      // Checked again once a slot is free: a failure while this one waited stops it from starting.
      const result = await this.schedule(args.type, inputs, () => {
        this.refuseAfterFailure(args.name);
        return this.timed(args.type, args.name, inputs, performer);
      });
      this.ctx.state.resources[key] = {
        type: args.type,
        hash,
        id: result.id,
        outputs: result.outputs,
        at: new Date().toISOString(),
      };
      saveState(this.ctx.paths.stateFile, this.ctx.state);
      this.performed.push(key);
      return { id: result.id, state: result.outputs };
    } catch (e) {
      if (e instanceof NotRunAfterFailure) throw e;
      const err = e instanceof Error ? e : new Error(String(e));
      this.failure ??= err;
      this.failures.push(key);
      throw err;
    }
  }

  /** A container recorded as done must still exist and run; everything else is trusted to its hash. */
  private async stillValid(type: string, inputs: Inputs): Promise<boolean> {
    if (type !== "proxmoxve:index/containerLegacy:ContainerLegacy") return true;
    const vmid = Number(inputs.vmId);
    if (!fs.existsSync(path.join(this.ctx.paths.lxcPath, String(vmid), "upper"))) return false;
    return (
      inputs.started === false || (await containerState(this.ctx.paths.lxcPath, vmid)) === "RUNNING"
    );
  }

  private schedule(type: string, inputs: Inputs, fn: () => Promise<Performed>): Promise<Performed> {
    if (!COMMAND_TYPES.has(type)) return fn();
    const vmid = vmidOfCommand(inputs);
    return this.slots.use(() => (vmid === undefined ? fn() : this.perContainer.use(vmid, fn)));
  }

  private async timed(
    type: string,
    name: string,
    inputs: Inputs,
    performer: Performer,
  ): Promise<Performed> {
    const label = `${type.split(":").pop()} ${name}`;
    const started = Date.now();
    try {
      const result = await performer(this.ctx, name, inputs);
      this.ctx.log(`  ok   ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return result;
    } catch (e) {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const vmid =
        vmidOfCommand(inputs) ?? (inputs.vmId !== undefined ? String(inputs.vmId) : undefined);
      this.ctx.log(`  FAIL ${label} (${secs} s)${vmid ? ` in container ${vmid}` : ""}`);
      throw e;
    }
  }
}

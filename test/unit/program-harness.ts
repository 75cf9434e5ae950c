/**
 * Runs the Pulumi program under pulumi.runtime.setMocks and records every resource: what the
 * mock monitor received (type, name, inputs) and the options the program gave (parent,
 * dependsOn, additionalSecretOutputs), captured by a stack transformation.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  PLACEHOLDER_SECRETS,
  rawConfigFromStackYaml,
  runtimeConfigOf,
  type RawConfig,
} from "../../components/config";
import { loadConfig } from "../../components/config/load";
import { ARTIFACT_NAMES, type ArtifactName } from "../../components/config/types";
import { DEFAULT_ARTIFACT_FILES } from "../../components/artifacts";
import { deployStack, stackOutputs, type DeployedStack } from "../../components/stack";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Small stand-in files for every artifact, so the program's file checks pass without a build. */
export const FIXTURE_ARTIFACTS: Readonly<Record<ArtifactName, { localPath: string }>> =
  Object.fromEntries(
    ARTIFACT_NAMES.map((name) => [
      name,
      {
        localPath: path.join(
          REPO_ROOT,
          "test/unit/fixtures/artifacts",
          DEFAULT_ARTIFACT_FILES[name],
        ),
      },
    ]),
  ) as Record<ArtifactName, { localPath: string }>;

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value === "string") return JSON.parse(value) as Record<string, unknown>;
  return (value ?? {}) as Record<string, unknown>;
}

/**
 * The example stack (Pulumi.dev.yaml) plus placeholder secrets, with the artifacts pointed at
 * the fixture files; `overrides.artifacts` replaces single artifacts.
 */
export function exampleRaw(overrides: RawConfig = {}): RawConfig {
  const text = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8");
  const artifacts = { ...FIXTURE_ARTIFACTS, ...asObject(overrides.artifacts) };
  return {
    ...rawConfigFromStackYaml(text),
    ...PLACEHOLDER_SECRETS,
    // The paper's PostgreSQL layer, which most program tests were written for. The stack's
    // default is auto: program-pg-failover.test.ts drives it (exampleRaw(AUTO_FAILOVER)).
    pgFailover: "manual",
    ...overrides,
    artifacts: JSON.stringify(artifacts),
  };
}

/** The stack's default failover mode, which exampleRaw() leaves for manual unless asked. */
export const AUTO_FAILOVER = { pgFailover: "auto" };

/** A mock input that the program marked secret arrives wrapped; this tells and unwraps it. */
/**
 * The front-door options and the container firewall, all on (self-signed TLS, a generated admin
 * password): the steps only they add are rendered too (nginx-frontdoor, nftables-configure).
 */
export const EVERY_OPTION_ON = {
  lbTls: "self-signed",
  lbRedirectHttp: "true",
  lbAdminAuth: "true",
  lbPostRatePerSecond: "10",
  lbPostBurst: "20",
  lbMaxBodyBytes: "32768",
  containerFirewall: "true",
};

export function secretInput(value: unknown): { secret: boolean; value: unknown } {
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    if (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) {
      return { secret: true, value: record.value };
    }
  }
  return { secret: false, value };
}

/** Deep copy of mock inputs with secret wrappers replaced by their values. */
export function reveal(value: unknown): unknown {
  const s = secretInput(value);
  if (s.secret) return reveal(s.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
  }
  return value;
}

export interface Recorded {
  type: string;
  name: string;
  resource: pulumi.Resource;
  parent?: pulumi.Resource;
  dependsOn: pulumi.Resource[];
  additionalSecretOutputs: string[];
  /** The resource options the program gave (aliases, protect, customTimeouts…). */
  opts: pulumi.ResourceOptions;
  /** Inputs as the mock monitor saw them (resolved; secrets still wrapped, see reveal()). */
  inputs: Record<string, unknown>;
}

export interface ProgramRun {
  resources: Recorded[];
  stack: DeployedStack;
  /** Stack outputs as plain values (secrets unwrapped) and which of them were secret. */
  outputs: Record<string, unknown>;
  secretOutputs: Set<string>;
  byName(name: string): Recorded;
}

function uuidFor(name: string): string {
  const hex = Buffer.from(name.padEnd(16, "x").slice(0, 16)).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

async function unwrap(value: unknown): Promise<{ value: unknown; secret: boolean }> {
  if (pulumi.Output.isInstance(value)) {
    const out = value as pulumi.Output<unknown>;
    // The internal fields are the documented way tests read an Output's value and secretness.
    const internal = out as unknown as { promise(): Promise<unknown>; isSecret: Promise<boolean> };
    return { value: await internal.promise(), secret: await internal.isSecret };
  }
  return { value, secret: false };
}

export interface RunOptions {
  /**
   * Run as `pulumi preview` does: the engine knows no output of a resource it has yet to create
   * (random results, command stdout, ids), so those stay unknown, secrets included.
   */
  preview?: boolean;
}

/** What a mock resource reports: its inputs plus, outside preview, the provider's outputs. */
function mockResult(args: pulumi.runtime.MockResourceArgs, preview: boolean) {
  const state: Record<string, unknown> = { ...args.inputs };
  if (preview) return { id: undefined, state };
  if (args.type === "random:index/randomPassword:RandomPassword") {
    state.result = `mock-password-${args.name}`;
  }
  if (args.type === "random:index/randomUuid:RandomUuid") state.result = uuidFor(args.name);
  if (args.type === "command:remote:Command") Object.assign(state, { stdout: "", stderr: "" });
  const id =
    args.type === "proxmoxve:download/file:File"
      ? `${String(args.inputs.datastoreId)}:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`
      : `${args.name}-id`;
  return { id, state };
}

/** Resources a program registered under the mocks, and its outputs. */
export interface RecordedProgram {
  resources: Recorded[];
  outputs: Record<string, unknown>;
  secretOutputs: Set<string>;
}

/**
 * Runs `body` (any Pulumi program) under the mocks with the given raw settings and records every
 * resource it registers.
 */
export async function recordProgram(
  raw: RawConfig,
  body: () => Record<string, unknown>,
  opts: RunOptions = {},
): Promise<RecordedProgram> {
  const preview = opts.preview ?? false;
  const inputsByName = new Map<string, Record<string, unknown>>();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        inputsByName.set(`${args.type}::${args.name}`, args.inputs);
        return mockResult(args, preview);
      },
      call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    },
    "pve-ha-stack",
    "dev",
    preview,
  );
  pulumi.runtime.setAllConfig(runtimeConfigOf(raw), [
    "pve-ha-stack:proxmoxSshPrivateKey",
    "proxmoxve:apiToken",
  ]);

  const recorded: Recorded[] = [];
  let outputs: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      const deps = args.opts.dependsOn;
      recorded.push({
        type: args.type,
        name: args.name,
        resource: args.resource,
        parent: args.opts.parent,
        dependsOn: Array.isArray(deps)
          ? (deps as pulumi.Resource[])
          : deps
            ? [deps as pulumi.Resource]
            : [],
        additionalSecretOutputs:
          (args.opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [],
        opts: args.opts,
        inputs: {},
      });
      return undefined;
    });
    outputs = body();
    return outputs;
  });
  // Registrations finish after the stack's outputs resolve: wait for every resource's URN.
  await Promise.all(recorded.map((r) => unwrap(r.resource.urn)));
  const plain: Record<string, unknown> = {};
  const secretOutputs = new Set<string>();
  for (const [key, value] of Object.entries(outputs)) {
    const { value: v, secret } = await unwrap(value);
    plain[key] = v;
    if (secret) secretOutputs.add(key);
  }
  for (const r of recorded) r.inputs = inputsByName.get(`${r.type}::${r.name}`) ?? {};
  return { resources: recorded, outputs: plain, secretOutputs };
}

/** Runs index.ts's composition for the given raw settings. */
export async function runProgram(raw: RawConfig, opts: RunOptions = {}): Promise<ProgramRun> {
  let stack: DeployedStack | undefined;
  const recorded = await recordProgram(
    raw,
    () => {
      stack = deployStack(loadConfig());
      return stackOutputs(stack);
    },
    opts,
  );
  if (!stack) throw new Error("the program did not run");
  const { resources } = recorded;
  return {
    ...recorded,
    stack,
    byName(name: string) {
      const found = resources.filter((r) => r.name === name);
      if (found.length !== 1) throw new Error(`${found.length} resources named "${name}"`);
      return found[0];
    },
  };
}

/** Every resource `r` waits for, directly or through other dependencies and their children. */
export function transitiveDeps(run: ProgramRun, r: Recorded): Set<pulumi.Resource> {
  const children = new Map<pulumi.Resource, Recorded[]>();
  for (const x of run.resources) {
    if (x.parent) children.set(x.parent, [...(children.get(x.parent) ?? []), x]);
  }
  const byResource = new Map(run.resources.map((x) => [x.resource, x]));
  const seen = new Set<pulumi.Resource>();
  const stack = [...r.dependsOn];
  while (stack.length > 0) {
    const next = stack.pop() as pulumi.Resource;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(byResource.get(next)?.dependsOn ?? []));
    stack.push(...(children.get(next) ?? []).map((c) => c.resource));
  }
  return seen;
}

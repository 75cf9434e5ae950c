import { DEFAULT_ARTIFACT_FILES } from "../../components/artifacts";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import type { BridgePlan } from "./bridge";
import type { SandboxPaths } from "./paths";
import { formatConfigErrors, parseConfig, rawConfigOfRuntime } from "../../components/config";
import { SCALAR_SETTINGS } from "../../components/config/schema";

/** The sandbox's own network: a bridge it creates, a subnet no host route uses. */
export const SANDBOX_BRIDGE: BridgePlan = {
  name: "pvehab0",
  subnet: "10.213.47.0/24",
  gateway: "10.213.47.1",
};

/** Where the offline apt repository is bind-mounted (read-only) in every container. */
export const APT_REPO_MOUNT_POINT = "/srv/pve-ha-sandbox-apt";

const NS = "pve-ha-stack";

/** Local artifact files under .cache/artifacts/ (built by scripts/artifacts/all.sh). */
export function artifactFiles(paths: SandboxPaths): Record<string, string> {
  const names = ["kafka", "jmxAgent", "kafkaExporter", "node", "app", "patroni"] as const;
  return Object.fromEntries(
    names.map((name) => [name, path.join(paths.artifactsDir, DEFAULT_ARTIFACT_FILES[name])]),
  );
}

/** Config values the sandbox sets over the example stack (Pulumi config keys -> string values). */
export function sandboxOverlay(paths: SandboxPaths): Record<string, string> {
  const artifacts = Object.fromEntries(
    Object.entries(artifactFiles(paths)).map(([name, localPath]) => [name, { localPath }]),
  );
  return {
    [`${NS}:bridge`]: SANDBOX_BRIDGE.name,
    [`${NS}:networkCidr`]: SANDBOX_BRIDGE.subnet,
    [`${NS}:networkGateway`]: SANDBOX_BRIDGE.gateway,
    [`${NS}:dnsServers`]: "",
    [`${NS}:hostStagingDir`]: paths.stagingDir,
    [`${NS}:grafanaEnabled`]: "false",
    // kafka_exporter only where build-kafka-exporter.sh could build it: the Go module proxy may
    // refuse the module, and the containers cannot download its release. Without it, consumer lag
    // comes from the app's metrics.
    [`${NS}:kafkaExporterEnabled`]: String(fs.existsSync(artifactFiles(paths).kafkaExporter)),
    // The paper's drills speak plain HTTP through the LB (README "Front door security"): TLS,
    // /admin auth, the POST limits and the containers' firewalls stay on as by default, only the
    // redirect of plain HTTP is off. The security drill (scenario 13) tests the TLS listener.
    [`${NS}:lbRedirectHttp`]: "false",
    [`${NS}:aptSources`]: `deb [trusted=yes] file:${APT_REPO_MOUNT_POINT} ./\n`,
    [`${NS}:artifacts`]: JSON.stringify(artifacts),
    // pct runs on this machine through the shim: no SSH and no Proxmox API are used.
    [`${NS}:proxmoxSshPrivateKey`]: "unused-in-the-sandbox",
    "proxmoxve:endpoint": "https://proxmox.sandbox.invalid:8006/",
    "proxmoxve:apiToken": "sandbox@pve!unused=00000000-0000-0000-0000-000000000000",
  };
}

/** Plain values of a stack file's `config:`; encrypted (`secure:`) values are left to the overlay. */
export function readStackConfig(stackFile: string): {
  values: Record<string, string>;
  secureKeys: string[];
} {
  const doc = parse(fs.readFileSync(stackFile, "utf8")) as {
    config?: Record<string, unknown>;
  } | null;
  const values: Record<string, string> = {};
  const secureKeys: string[] = [];
  for (const [key, value] of Object.entries(doc?.config ?? {})) {
    if (value !== null && typeof value === "object" && "secure" in value) secureKeys.push(key);
    else values[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { values, secureKeys };
}

/** Example stack + overlay; every encrypted key must be replaced by the overlay. */
export function mergeConfig(
  stack: ReturnType<typeof readStackConfig>,
  overlay: Record<string, string>,
): Record<string, string> {
  const missing = stack.secureKeys.filter((k) => !(k in overlay));
  if (missing.length > 0) {
    throw new Error(
      `the sandbox overlay has no value for the encrypted config keys: ${missing.join(", ")}`,
    );
  }
  return { ...stack.values, ...overlay };
}

/** A scalar of the merged config, or the schema default when the stack does not set it. */
export function scalarSetting(
  merged: Record<string, string>,
  key: keyof typeof SCALAR_SETTINGS,
): string {
  const value = merged[`${NS}:${key}`];
  if (value !== undefined) return value;
  const setting = SCALAR_SETTINGS[key] as { default?: string | number | boolean };
  if (setting.default === undefined) throw new Error(`config ${NS}:${key} is required`);
  return String(setting.default);
}

/**
 * Proxmox node name -> SSH host, as the program itself reads the stack's configuration: the
 * project's keys and the provider keys it reads (rawConfigOf), nothing else.
 */
export function hostSshOf(config: Record<string, string>): Record<string, string> {
  const parsed = parseConfig(rawConfigOfRuntime(config));
  if (!parsed.config) throw new Error(formatConfigErrors(parsed.errors));
  return Object.fromEntries(parsed.config.hosts.map((h) => [h.name, h.sshHost]));
}

/** A day-2 change for `up`: scalar settings and local artifact files over the stack's own. */
export interface Day2Overrides {
  /** `--set <key>=<value>`: project scalar settings (schema keys) */
  settings: Record<string, string>;
  /** `--artifact <name>=<path>`: a local file instead of the built artifact */
  artifacts: Record<string, string>;
}

export const NO_OVERRIDES: Day2Overrides = { settings: {}, artifacts: {} };

/**
 * The settings a warm `up` applies: the cold `up`'s `--set` values are the deployed stack's own (as
 * `pulumi config set` would keep them), this `up`'s own `--set` values go over them. So a day-2
 * change without `--set pgFailover=manual` does not turn a stack deployed with it into `auto`.
 */
export function withStackSettings(
  stackSettings: Readonly<Record<string, string>>,
  o: Day2Overrides,
): Day2Overrides {
  return { settings: { ...stackSettings, ...o.settings }, artifacts: o.artifacts };
}

/** Parses `key=value`, naming the option and the bad text. */
export function parseAssignment(option: string, text: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw new Error(`${option}: expected <key>=<value> (got "${text}")`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** The merged config with the overrides applied; an unknown key or artifact name is refused. */
export function applyOverrides(
  merged: Record<string, string>,
  o: Day2Overrides,
): Record<string, string> {
  const out = { ...merged };
  for (const [key, value] of Object.entries(o.settings)) {
    if (!(key in SCALAR_SETTINGS)) {
      throw new Error(
        `--set: "${key}" is not a scalar setting of the stack (got "${key}=${value}")`,
      );
    }
    out[`${NS}:${key}`] = value;
  }
  if (Object.keys(o.artifacts).length > 0) {
    const artifacts = JSON.parse(out[`${NS}:artifacts`] ?? "{}") as Record<string, unknown>;
    for (const [name, localPath] of Object.entries(o.artifacts)) {
      if (!(name in artifacts)) {
        throw new Error(
          `--artifact: "${name}" is not an artifact of the sandbox (${Object.keys(artifacts).join(", ")}; got "${name}=${localPath}")`,
        );
      }
      if (!fs.existsSync(localPath)) {
        throw new Error(`--artifact: ${name}: no such file (got "${localPath}")`);
      }
      artifacts[name] = { localPath: path.resolve(localPath) };
    }
    out[`${NS}:artifacts`] = JSON.stringify(artifacts);
  }
  return out;
}

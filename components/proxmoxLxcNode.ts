import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { artifactIdentity } from "./artifacts";
import type { ExposureRule } from "./config/exposure";
import type { ArtifactSource, NodePlan } from "./config/types";
import { containerFirewall } from "./proxmoxFirewall";
import { commandTrigger, keyedCommandTrigger } from "./render/hash";
import { renderPayload, type PayloadVars } from "./render/payload";
import { pctExecScript, pctPushFile, pctPushStdin } from "./render/pct";

/** SSH access to the Proxmox host, where every pct command runs. */
export interface HostAccess {
  connection: command.types.input.remote.ConnectionArgs;
  /** Directory on the host for artifacts copied from the Pulumi host. */
  stagingDir: string;
  /** The Command that creates stagingDir; artifact copies wait for it. */
  stagingDirReady?: pulumi.Resource;
}

export interface ProxmoxLxcNodeArgs {
  plan: NodePlan;
  host: HostAccess;
  templateFileId: pulumi.Input<string>;
  datastoreId: string;
  bridge: string;
  dnsServers: string[];
  searchDomain: string;
  /** sources.list replacing Debian's; empty keeps the template's sources. */
  aptSources: string;
  /** Secret key of the stack for the triggers of commands that carry secrets. */
  triggerKey: pulumi.Output<string>;
  /** Provider timeout of container create/update/delete, in seconds. */
  timeoutSeconds: number;
  /** Data-bearing containers (PostgreSQL, Kafka) get protect, retainOnDelete, a fixed template. */
  protectData: boolean;
  /** Register the container as a Proxmox HA resource. */
  proxmoxHa?: boolean;
  /** OpenSSH public keys for root, given at creation (later changes are ignored). */
  sshPublicKeys?: string[];
  /** With the Proxmox firewall on: what may reach this container (input DROP for the rest). */
  firewallRules?: readonly ExposureRule[];
}

/** Roles whose containers hold data that a rebuild would lose. */
export const DATA_ROLES: readonly NodePlan["role"][] = ["pg-primary", "pg-standby", "kafka"];

/**
 * The provider replaces a container whose root keys change; the keys are given at creation only,
 * so a changed containerSshPublicKeys never rebuilds a node.
 */
export const USER_ACCOUNT_PATH = "initialization.userAccount";

/** Pulumi waits a minute longer than the provider, so the provider's own error is reported. */
const CUSTOM_TIMEOUT_MARGIN_SECONDS = 60;

/**
 * Resource options of a container: timeouts for a slow host, root keys at creation only and,
 * with protectData, no delete or rebuild of a data-bearing container (a changed template would
 * otherwise replace it).
 */
export function containerOptions(
  role: NodePlan["role"],
  settings: { timeoutSeconds: number; protectData: boolean },
): pulumi.CustomResourceOptions {
  const limit = `${settings.timeoutSeconds + CUSTOM_TIMEOUT_MARGIN_SECONDS}s`;
  const opts: pulumi.CustomResourceOptions = {
    customTimeouts: { create: limit, update: limit, delete: limit },
    ignoreChanges: [USER_ACCOUNT_PATH],
  };
  if (settings.protectData && DATA_ROLES.includes(role)) {
    opts.protect = true;
    opts.retainOnDelete = true;
    opts.ignoreChanges = [USER_ACCOUNT_PATH, "operatingSystem.templateFileId"];
  }
  return opts;
}

export interface RunPayloadArgs {
  payload: string;
  vars?: pulumi.Input<Record<string, pulumi.Input<string | number | boolean>>>;
  /** The script carries a secret: no logs, secret stdout/stderr. */
  secret?: boolean;
}

export interface PushFileArgs {
  path: string;
  content: pulumi.Input<string>;
  mode?: string;
  owner?: string;
  secret?: boolean;
}

export interface PushArtifactArgs {
  artifact: ArtifactSource;
  dest: string;
  mode?: string;
}

export const LXC_NODE_TYPE = "pve-ha:proxmox:LxcNode";

function mergeDependsOn(
  base: pulumi.Resource[],
  extra: pulumi.CustomResourceOptions["dependsOn"],
): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
  if (extra === undefined) return base;
  if (pulumi.Resource.isInstance(extra)) return [...base, extra];
  if (Array.isArray(extra) && extra.every((r) => pulumi.Resource.isInstance(r))) {
    return [...base, ...extra];
  }
  const rest = pulumi.output(extra as pulumi.Input<pulumi.Resource | pulumi.Resource[]>);
  return rest.apply((list) => [...base, ...(Array.isArray(list) ? list : [list])]);
}

/**
 * One LXC container on Proxmox VE plus the steps that configure it over SSH to the host
 * (`pct exec` / `pct push`: no sshd needed in the container).
 */
export class ProxmoxLxcNode extends pulumi.ComponentResource {
  readonly plan: NodePlan;
  readonly vmid: number;
  readonly ip: string;
  readonly container: proxmoxve.ContainerLegacy;
  /** Waits for systemd, the network and the dpkg lock; every helper step depends on it. */
  readonly ready: command.remote.Command;
  private readonly host: HostAccess;
  private readonly triggerKey: pulumi.Output<string>;

  constructor(name: string, args: ProxmoxLxcNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(LXC_NODE_TYPE, name, {}, opts);
    const { plan } = args;
    this.plan = plan;
    this.vmid = plan.vmid;
    this.ip = plan.ip;
    this.host = args.host;
    this.triggerKey = args.triggerKey;

    this.container = new proxmoxve.ContainerLegacy(
      name,
      {
        nodeName: plan.proxmoxNode,
        vmId: plan.vmid,
        description: `pve-ha-stack ${plan.name} (${plan.role})`,
        tags: ["pve-ha-stack", plan.role],
        unprivileged: true,
        // systemd in an unprivileged container needs nesting (AppArmor denies its mounts otherwise).
        features: { nesting: true },
        cpu: { cores: plan.cores },
        memory: { dedicated: plan.memoryMb, swap: 0 },
        disk: { datastoreId: args.datastoreId, size: plan.diskGb },
        operatingSystem: { templateFileId: args.templateFileId, type: "debian" },
        initialization: {
          hostname: plan.name,
          ipConfigs: [
            { ipv4: { address: `${plan.ip}/${plan.cidrPrefix}`, gateway: plan.gateway } },
          ],
          dns: {
            servers: args.dnsServers,
            ...(args.searchDomain ? { domain: args.searchDomain } : {}),
          },
          ...(args.sshPublicKeys?.length ? { userAccount: { keys: args.sshPublicKeys } } : {}),
        },
        networkInterfaces: [
          { name: "eth0", bridge: args.bridge, ...(args.firewallRules ? { firewall: true } : {}) },
        ],
        startOnBoot: true,
        started: true,
        startup: { order: plan.startOrder },
        timeoutCreate: args.timeoutSeconds,
        timeoutUpdate: args.timeoutSeconds,
        timeoutDelete: args.timeoutSeconds,
      },
      { parent: this, ...containerOptions(plan.role, args) },
    );

    if (args.proxmoxHa) {
      new proxmoxve.Haresource(
        `${name}-ha`,
        {
          resourceId: `ct:${plan.vmid}`,
          state: "started",
          comment: `pve-ha-stack ${plan.name}`,
          // One restart on the same host, then one move; the stack's own failover does the rest.
          maxRestart: 1,
          maxRelocate: 1,
        },
        { parent: this, dependsOn: [this.container] },
      );
    }

    if (args.firewallRules) containerFirewall(name, plan, args.firewallRules, this.container, this);

    this.ready = this.command("ready", {
      create: pctExecScript(plan.vmid),
      stdin: pulumi.output(
        renderPayload("ready", { PAYLOAD_NAME: "ready", APT_SOURCES: args.aptSources }),
      ),
      secret: false,
      dependsOn: [this.container],
    });

    this.registerOutputs({ vmid: this.vmid, ip: this.ip, containerId: this.container.id });
  }

  /** Runs scripts/payloads/<payload>.sh (with lib.sh and the vars) in the container. */
  runPayload(
    resourceName: string,
    args: RunPayloadArgs,
    opts?: pulumi.CustomResourceOptions,
  ): command.remote.Command {
    const script = pulumi
      .output(args.vars ?? {})
      .apply((v: PayloadVars) => renderPayload(args.payload, { PAYLOAD_NAME: args.payload, ...v }));
    return this.command(resourceName, {
      create: pctExecScript(this.vmid),
      stdin: script,
      secret: args.secret ?? false,
      opts,
    });
  }

  /** Writes `content` to `path` in the container (pct push with mode and owner). */
  pushFile(
    resourceName: string,
    args: PushFileArgs,
    opts?: pulumi.CustomResourceOptions,
  ): command.remote.Command {
    return this.command(resourceName, {
      create: pctPushStdin(this.vmid, args.path, { mode: args.mode, owner: args.owner }),
      stdin: pulumi.output(args.content),
      secret: args.secret ?? false,
      opts,
    });
  }

  /**
   * Puts an artifact at `dest` in the container: a local file is copied to the host staging dir
   * and pushed; a URL is downloaded by the container and checked against its digest.
   */
  pushArtifact(
    resourceName: string,
    args: PushArtifactArgs,
    opts?: pulumi.CustomResourceOptions,
  ): command.remote.Command {
    const source = args.artifact;
    if (source.kind === "url") {
      return this.runPayload(
        resourceName,
        {
          payload: "fetch-artifact",
          vars: {
            DEST: args.dest,
            LOCAL_PATH: "",
            URL: source.url,
            SHA256: source.sha256 ?? "",
            SHA512: source.sha512 ?? "",
          },
        },
        opts,
      );
    }
    const identity = artifactIdentity(source);
    const staged = `${this.host.stagingDir}/${this.vmid}-${path.basename(source.localPath)}`;
    const copy = new command.remote.CopyToRemote(
      `${this.plan.name}-${resourceName}-copy`,
      {
        connection: this.host.connection,
        source: new pulumi.asset.FileAsset(source.localPath),
        remotePath: staged,
        triggers: [identity],
      },
      {
        parent: opts?.parent ?? this,
        dependsOn: this.host.stagingDirReady
          ? [this.ready, this.host.stagingDirReady]
          : [this.ready],
        deletedWith: this.container,
      },
    );
    return this.command(resourceName, {
      create: pctPushFile(this.vmid, staged, args.dest, { mode: args.mode ?? "0644" }),
      stdin: pulumi.output(`artifact ${identity}\n`),
      secret: false,
      dependsOn: [copy],
      opts,
    });
  }

  private command(
    resourceName: string,
    spec: {
      create: string;
      stdin: pulumi.Output<string>;
      /** Marks stdin secret (the trigger becomes a keyed digest), turns logging off, hides stdout/stderr. */
      secret: boolean;
      dependsOn?: pulumi.Resource[];
      opts?: pulumi.CustomResourceOptions;
    },
  ): command.remote.Command {
    const { opts } = spec;
    const ownDeps = spec.dependsOn ?? [this.ready];
    const stdin = spec.secret ? pulumi.secret(spec.stdin) : spec.stdin;
    // A trigger must never be secret: at preview a secret is unknown, and the provider rejects a
    // secret unknown trigger ("malformed secret: missing value"). The keyed digest of a secret
    // script is safe to show.
    const trigger = spec.secret
      ? pulumi.unsecret(
          pulumi
            .all([this.triggerKey, spec.stdin])
            .apply(([key, text]) => keyedCommandTrigger(key, text, spec.create)),
        )
      : stdin.apply((text) => commandTrigger(text, spec.create));
    return new command.remote.Command(
      `${this.plan.name}-${resourceName}`,
      {
        connection: this.host.connection,
        create: spec.create,
        stdin,
        triggers: [trigger],
        addPreviousOutputInEnv: false,
        ...(spec.secret ? { logging: "none" as const } : {}),
      },
      {
        ...opts,
        parent: opts?.parent ?? this,
        dependsOn: mergeDependsOn(ownDeps, opts?.dependsOn),
        deletedWith: opts?.deletedWith ?? this.container,
        ...(spec.secret
          ? {
              additionalSecretOutputs: [
                "stdout",
                "stderr",
                ...(opts?.additionalSecretOutputs ?? []),
              ],
            }
          : {}),
      },
    );
  }
}

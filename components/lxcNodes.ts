import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { exposureOptionsOf, exposureRules } from "./config/exposure";
import type { PgFailoverMode } from "./config/pgFailover";
import type { NodePlan, ProxmoxHost, StackConfig } from "./config/types";
import { commandTrigger } from "./render/hash";
import { debianPackages } from "./render/packages";
import { shellQuote } from "./render/payload";
import { ProxmoxLxcNode, type HostAccess } from "./proxmoxLxcNode";

/** Creates the ProxmoxLxcNode of one plan entry under the given parent (none: top level). */
export type NodeFactory = (plan: NodePlan, parent?: pulumi.Resource) => ProxmoxLxcNode;

/**
 * The "install" step of a node: the Debian packages of its role (with pgFailover auto's where
 * the role has some). `createClusterConf` is the createcluster.conf the PostgreSQL nodes need
 * before their package is installed.
 */
export function installRolePackages(
  node: ProxmoxLxcNode,
  createClusterConf = "",
  pgFailover: PgFailoverMode = "manual",
): command.remote.Command {
  return node.runPayload("install", {
    payload: "install-packages",
    vars: {
      PACKAGES: debianPackages(node.plan.role, pgFailover).join(" "),
      CREATECLUSTER_CONF: createClusterConf,
    },
  });
}

export function hostConnection(host: ProxmoxHost): command.types.input.remote.ConnectionArgs {
  return {
    host: host.sshHost,
    port: host.sshPort,
    user: host.sshUser,
    privateKey: pulumi.secret(host.sshPrivateKey),
    dialErrorLimit: 10,
    perDialTimeout: 15,
  };
}

/**
 * SSH access to one Proxmox host and its staging directory (created once, before any artifact
 * copy). The first host keeps the name the single-host stack gave this step.
 */
export function hostAccess(
  cfg: StackConfig,
  host: ProxmoxHost,
  opts: pulumi.CustomResourceOptions = {},
): HostAccess {
  const connection = hostConnection(host);
  const create = `mkdir -p ${shellQuote(cfg.proxmox.hostStagingDir)}`;
  const first = cfg.hosts[0]?.name === host.name;
  const stagingDirReady = new command.remote.Command(
    `host-staging-dir-${host.name}`,
    { connection, create, triggers: [commandTrigger(create)] },
    {
      ...opts,
      aliases: first ? [{ name: "host-staging-dir", parent: pulumi.rootStackResource }] : [],
    },
  );
  return { connection, stagingDir: cfg.proxmox.hostStagingDir, stagingDirReady };
}

/** The type the template download had before download.File; an alias keeps existing templates. */
export const LEGACY_TEMPLATE_TYPE = "proxmoxve:download/fileLegacy:FileLegacy";

/** One Debian 12 template per Proxmox node, unless the stack names an existing one. */
export function templateFileIds(
  cfg: StackConfig,
  plans: readonly NodePlan[],
  parent?: pulumi.Resource,
): Map<string, pulumi.Input<string>> {
  const ids = new Map<string, pulumi.Input<string>>();
  for (const nodeName of new Set(plans.map((p) => p.proxmoxNode))) {
    if (cfg.template.fileId !== "") {
      ids.set(nodeName, cfg.template.fileId);
      continue;
    }
    const file = new proxmoxve.download.File(
      `template-${nodeName}`,
      {
        contentType: "vztmpl",
        datastoreId: cfg.proxmox.templateDatastoreId,
        nodeName,
        url: cfg.template.url,
        overwrite: false,
        ...(cfg.template.sha512
          ? { checksum: cfg.template.sha512, checksumAlgorithm: "sha512" }
          : {}),
      },
      {
        parent,
        // Old stacks hold the template as a FileLegacy at the top level.
        aliases: [{ type: LEGACY_TEMPLATE_TYPE, parent: pulumi.rootStackResource }],
      },
    );
    ids.set(nodeName, file.id);
  }
  return ids;
}

/**
 * Creates the nodes of the plan: each on its Proxmox host, over that host's SSH access, from that
 * host's template. `stack` parents the shared resources (staging dirs, templates, trigger key).
 */
export function nodeFactory(
  cfg: StackConfig,
  plans: readonly NodePlan[],
  stack?: pulumi.Resource,
): NodeFactory {
  const topLevel: pulumi.CustomResourceOptions = stack
    ? { parent: stack, aliases: [{ parent: pulumi.rootStackResource }] }
    : {};
  const access = new Map(cfg.hosts.map((h) => [h.name, hostAccess(cfg, h, topLevel)]));
  const templates = templateFileIds(cfg, plans, stack);
  const triggerKey = new random.RandomPassword(
    "trigger-key",
    { length: 32, special: false },
    topLevel,
  ).result;
  const exposure = cfg.proxmox.firewall
    ? exposureRules(plans, exposureOptionsOf(cfg, [cfg.firewall.operatorCidr]))
    : undefined;
  return (plan, parent) => {
    const host = access.get(plan.proxmoxNode);
    if (!host) throw new Error(`${plan.name}: no proxmoxHosts entry for "${plan.proxmoxNode}"`);
    return new ProxmoxLxcNode(
      plan.name,
      {
        plan,
        host,
        templateFileId: templates.get(plan.proxmoxNode) ?? cfg.template.fileId,
        datastoreId: cfg.proxmox.datastoreId,
        bridge: cfg.proxmox.bridge,
        dnsServers: cfg.network.dnsServers,
        searchDomain: cfg.network.searchDomain,
        aptSources: cfg.aptSources,
        triggerKey,
        timeoutSeconds: cfg.proxmox.containerTimeoutSeconds,
        protectData: cfg.proxmox.protectData,
        proxmoxHa: cfg.placement.proxmoxHa,
        sshPublicKeys: cfg.proxmox.containerSshPublicKeys,
        firewallRules: exposure?.filter((rule) => rule.node === plan.name),
      },
      parent === stack ? { ...topLevel } : parent ? { parent } : {},
    );
  };
}

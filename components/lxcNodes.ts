import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { NodePlan, StackConfig } from "./config/types";
import { commandTrigger } from "./render/hash";
import { debianPackages } from "./render/packages";
import { shellQuote } from "./render/payload";
import { ProxmoxLxcNode, type HostAccess } from "./proxmoxLxcNode";

/** Creates the ProxmoxLxcNode of one plan entry under the given parent (none: top level). */
export type NodeFactory = (plan: NodePlan, parent?: pulumi.Resource) => ProxmoxLxcNode;

/**
 * The "install" step of a node: the Debian packages of its role. `createClusterConf` is the
 * createcluster.conf the PostgreSQL nodes need before their package is installed.
 */
export function installRolePackages(
  node: ProxmoxLxcNode,
  createClusterConf = "",
): command.remote.Command {
  return node.runPayload("install", {
    payload: "install-packages",
    vars: {
      PACKAGES: debianPackages(node.plan.role).join(" "),
      CREATECLUSTER_CONF: createClusterConf,
    },
  });
}

export function hostConnection(cfg: StackConfig): command.types.input.remote.ConnectionArgs {
  return {
    host: cfg.proxmox.sshHost,
    port: cfg.proxmox.sshPort,
    user: cfg.proxmox.sshUser,
    privateKey: pulumi.secret(cfg.proxmox.sshPrivateKey),
    dialErrorLimit: 10,
    perDialTimeout: 15,
  };
}

/** The staging directory on the Proxmox host (created once, before any artifact copy). */
export function hostAccess(cfg: StackConfig, connection = hostConnection(cfg)): HostAccess {
  const create = `mkdir -p ${shellQuote(cfg.proxmox.hostStagingDir)}`;
  const stagingDirReady = new command.remote.Command("host-staging-dir", {
    connection,
    create,
    triggers: [commandTrigger(create)],
  });
  return { connection, stagingDir: cfg.proxmox.hostStagingDir, stagingDirReady };
}

/** The type the template download had before download.File; an alias keeps existing templates. */
export const LEGACY_TEMPLATE_TYPE = "proxmoxve:download/fileLegacy:FileLegacy";

/** One Debian 12 template per Proxmox node, unless the stack names an existing one. */
export function templateFileIds(
  cfg: StackConfig,
  plans: readonly NodePlan[],
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
      { aliases: [{ type: LEGACY_TEMPLATE_TYPE }] },
    );
    ids.set(nodeName, file.id);
  }
  return ids;
}

export function nodeFactory(cfg: StackConfig, plans: readonly NodePlan[]): NodeFactory {
  const host = hostAccess(cfg);
  const templates = templateFileIds(cfg, plans);
  const triggerKey = new random.RandomPassword("trigger-key", { length: 32, special: false })
    .result;
  return (plan, parent) =>
    new ProxmoxLxcNode(
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
      },
      parent ? { parent } : {},
    );
}

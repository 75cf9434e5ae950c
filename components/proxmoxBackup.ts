import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { VzdumpSettings } from "./config/types";
import { vzdumpJobId } from "./config/vzdump";
import type { ProxmoxLxcNode } from "./proxmoxLxcNode";

/**
 * The optional Proxmox backup job (vzdump) of every container of the stack, on whichever host
 * holds it: snapshot mode, zstd, the last `keepLast` backups kept per container. None when the
 * schedule is empty.
 */
export function vzdumpJob(
  settings: VzdumpSettings,
  nodes: readonly ProxmoxLxcNode[],
  parent: pulumi.Resource,
): proxmoxve.backup.Job | undefined {
  if (settings.schedule === "") return undefined;
  return new proxmoxve.backup.Job(
    "vzdump",
    {
      resourceId: vzdumpJobId(pulumi.getStack()),
      schedule: settings.schedule,
      storage: settings.storage,
      vmids: nodes
        .map((n) => n.vmid)
        .sort((a, b) => a - b)
        .map(String),
      mode: "snapshot",
      compress: "zstd",
      pruneBackups: { "keep-last": String(settings.keepLast) },
      enabled: true,
    },
    { parent, dependsOn: nodes.map((n) => n.container) },
  );
}

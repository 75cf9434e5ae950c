/** Where the pgBackRest repository may live: a node of the stack other than the PostgreSQL pair. */
import type { Problems } from "./problems";
import type { BackupSettings, NodePlan } from "./types";

const KEY = "pgBackupRepoNode";

/** A systemd OnCalendar expression (systemd-analyze checks it in the real-tool checks). */
export const SYSTEMD_CALENDAR = /^[A-Za-z0-9*:.,/~ -]{1,64}$/;

/** The pgBackRest stanza of the stack's PostgreSQL cluster. */
export const PGBACKREST_STANZA = "main";

/**
 * A problem naming pgBackupRepoNode when backups are on and the node is absent or a PG node, or
 * (several hosts, unless allowUnsafePlacement) shares a host with a PostgreSQL node: that host's
 * loss would take the primary and its archive at once.
 */
export function checkBackupRepoNode(
  backup: BackupSettings,
  plans: readonly NodePlan[],
  placement: { hosts: number; allowUnsafe: boolean },
  p: Problems,
): void {
  if (!backup.enabled) return;
  const node = plans.find((n) => n.name === backup.repoNode);
  if (node === undefined) {
    p.add(KEY, `no such node (nodes: ${plans.map((n) => n.name).join(", ")})`, backup.repoNode);
  } else if (node.role === "pg-primary" || node.role === "pg-standby") {
    p.add(
      KEY,
      "must not be a PostgreSQL node (its loss would take the backups with it)",
      backup.repoNode,
    );
  } else if (placement.hosts > 1 && !placement.allowUnsafe) {
    const pgs = plans.filter((n) => n.role === "pg-primary" || n.role === "pg-standby");
    const shared = pgs.filter((n) => n.proxmoxNode === node.proxmoxNode);
    if (shared.length > 0) {
      const elsewhere = plans
        .filter((n) => !pgs.some((pg) => pg.proxmoxNode === n.proxmoxNode))
        .map((n) => n.name);
      p.add(
        KEY,
        `is on host ${node.proxmoxNode} with ${shared.map((n) => n.name).join(", ")}: losing that host would take a PostgreSQL node and the backups at once; pick a node on another host (${elsewhere.join(", ") || "none: add a host"}) or set allowUnsafePlacement`,
        backup.repoNode,
      );
    }
  }
}

/** The repository node of a valid configuration with backups on. */
export function backupRepoPlan(backup: BackupSettings, plans: readonly NodePlan[]): NodePlan {
  const node = plans.find((n) => n.name === backup.repoNode);
  if (node === undefined)
    throw new Error(`pgBackupRepoNode: no such node (got "${backup.repoNode}")`);
  return node;
}

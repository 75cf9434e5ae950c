/**
 * Debian 12 packages each node role installs. Payloads install exactly these lists, and the
 * sandbox builds its offline apt repository from allDebianPackages().
 */
import type { NodeRole } from "../config/types";

/** Every container. */
export const BASE_PACKAGES: readonly string[] = ["ca-certificates", "prometheus-node-exporter"];

export const ROLE_PACKAGES: Readonly<Record<NodeRole, readonly string[]>> = {
  nginx: ["nginx", "prometheus-nginx-exporter"],
  // Node.js comes from the `node` artifact (Debian's nodejs 18 is too old for the app).
  app: [],
  "pg-primary": ["postgresql-15", "postgresql-client-15", "prometheus-postgres-exporter"],
  "pg-standby": ["postgresql-15", "postgresql-client-15", "prometheus-postgres-exporter"],
  haproxy: ["haproxy"],
  kafka: ["openjdk-17-jre-headless"],
  monitor: ["prometheus", "prometheus-alertmanager"],
};

/**
 * The LB pair's VRRP (lbReplicas 2): installed by the keepalived-configure payload on the two LB
 * nodes only, so a single LB (lbReplicas 1) has no keepalived. curl is the health check's client.
 */
export const KEEPALIVED_PACKAGES: readonly string[] = ["keepalived", "curl"];

/** containerFirewall: installed by the nftables-configure payload on every node. */
export const FIREWALL_PACKAGES: readonly string[] = ["nftables"];

/**
 * Backups (pgBackupEnabled): pgBackRest on both PostgreSQL nodes, installed by their
 * pgbackrest-configure step; the repository node also gets PostgreSQL 15 (without a cluster) to
 * restore into a scratch directory.
 */
export const BACKUP_PACKAGES: readonly string[] = ["pgbackrest"];
export const BACKUP_REPO_PACKAGES: readonly string[] = ["pgbackrest", "postgresql-15"];

export function debianPackages(role: NodeRole): string[] {
  const rolePackages = ROLE_PACKAGES[role];
  if (!rolePackages) throw new Error(`unknown node role (got "${String(role)}")`);
  return [...BASE_PACKAGES, ...rolePackages];
}

/** The union over every role and the LB pair's packages, sorted and without duplicates. */
export function allDebianPackages(): string[] {
  const all = new Set<string>([
    ...BASE_PACKAGES,
    ...KEEPALIVED_PACKAGES,
    ...FIREWALL_PACKAGES,
    ...BACKUP_PACKAGES,
    ...BACKUP_REPO_PACKAGES,
  ]);
  for (const list of Object.values(ROLE_PACKAGES)) for (const pkg of list) all.add(pkg);
  return [...all].sort();
}

/**
 * Debian 12 packages each node role installs. Payloads install exactly these lists, and the
 * sandbox builds its offline apt repository from allDebianPackages().
 */
import type { PgFailoverMode } from "../config/pgFailover";
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

/**
 * pgFailover auto (config/failoverPlan.ts): etcd 3.4 on the three members (both PostgreSQL nodes
 * and the witness pgproxy), Patroni 3.0.2 with its etcd client on the PostgreSQL nodes. Added to
 * those roles' install step in auto mode only; etcd-configure and patroni-configure install them
 * too when missing.
 */
export const ETCD_PACKAGES: readonly string[] = ["etcd-server", "etcd-client"];
export const PATRONI_PACKAGES: readonly string[] = ["patroni", "python3-etcd"];

/** What pgFailover auto adds to a role's packages. */
export function failoverPackages(role: NodeRole): string[] {
  switch (role) {
    case "pg-primary":
    case "pg-standby":
      return [...PATRONI_PACKAGES, ...ETCD_PACKAGES];
    case "haproxy":
      return [...ETCD_PACKAGES];
    default:
      return [];
  }
}

export function debianPackages(role: NodeRole, pgFailover: PgFailoverMode = "manual"): string[] {
  const rolePackages = ROLE_PACKAGES[role];
  if (!rolePackages) throw new Error(`unknown node role (got "${String(role)}")`);
  const failover = pgFailover === "auto" ? failoverPackages(role) : [];
  return [...BASE_PACKAGES, ...rolePackages, ...failover];
}

/**
 * The union over every role, the LB pair's, the backups' and pgFailover auto's packages, sorted
 * and without duplicates: the sandbox's offline repository serves either failover mode.
 */
export function allDebianPackages(): string[] {
  const all = new Set<string>([
    ...BASE_PACKAGES,
    ...KEEPALIVED_PACKAGES,
    ...FIREWALL_PACKAGES,
    ...BACKUP_PACKAGES,
    ...BACKUP_REPO_PACKAGES,
    ...ETCD_PACKAGES,
    ...PATRONI_PACKAGES,
  ]);
  for (const list of Object.values(ROLE_PACKAGES)) for (const pkg of list) all.add(pkg);
  return [...all].sort();
}

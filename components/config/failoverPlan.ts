/**
 * pgFailover auto: which nodes run Patroni and etcd. Patroni runs on both PostgreSQL nodes; etcd
 * on both of them and on a witness, pgproxy (HAProxy's node), so losing one PostgreSQL node
 * leaves two of three members: a quorum, and the leader lock moves.
 *
 * Why pgproxy and not monitor: HAProxy writes next to nothing to disk, while Prometheus' TSDB
 * compactions would compete with etcd's fsyncs (a slow fsync delays heartbeats and can cost the
 * etcd leader); and pgproxy is already in the database's path: losing it stops the app's
 * database access whatever etcd does, so the witness adds no new way for the database to fail.
 *
 * On several Proxmox hosts the three members must sit on three hosts: with two on one host, its
 * loss leaves one member, no quorum, and Patroni demotes the primary it cannot renew the lock of
 * (no writes anywhere). etcdPlacementProblems() refuses such a layout.
 */
import { HAPROXY_NAME, PG_PRIMARY_NAME, PG_STANDBY_NAME, nodeNamed } from "./plan";
import { PORTS } from "./ports";
import type { NodePlan } from "./types";

/** The etcd member that runs no PostgreSQL. */
export const ETCD_WITNESS_NAME = HAPROXY_NAME;
/** Patroni's cluster name (its etcd keys live under /service/<scope>/). */
export const PATRONI_SCOPE = "pve-ha";

export interface FailoverPlan {
  /** pg1 and pg2: Patroni + PostgreSQL, and etcd members. */
  patroniNodes: NodePlan[];
  /** pg1, pg2 and the witness, in that order. */
  etcdMembers: NodePlan[];
  witness: NodePlan;
}

export function failoverPlan(plans: readonly NodePlan[]): FailoverPlan {
  const patroniNodes = [nodeNamed(plans, PG_PRIMARY_NAME), nodeNamed(plans, PG_STANDBY_NAME)];
  const witness = nodeNamed(plans, ETCD_WITNESS_NAME);
  return { patroniNodes, etcdMembers: [...patroniNodes, witness], witness };
}

/** etcd's client endpoints, ip:port, in member order. */
export function etcdEndpoints(plans: readonly NodePlan[]): string[] {
  return failoverPlan(plans).etcdMembers.map((p) => `${p.ip}:${PORTS.etcdClient}`);
}

/**
 * With more than one Proxmox host (and pgFailover auto): one problem per host holding a majority
 * of the etcd members, naming the keys that fix it. A single host is not checked (the paper's
 * layout), nor is a stack with allowUnsafePlacement.
 */
export function etcdPlacementProblems(
  plans: readonly NodePlan[],
  hostNames: readonly string[],
  allowUnsafe: boolean,
): string[] {
  if (hostNames.length < 2 || allowUnsafe) return [];
  const { etcdMembers } = failoverPlan(plans);
  const majority = Math.floor(etcdMembers.length / 2) + 1;
  const needsThird = hostNames.length < etcdMembers.length ? " (it needs 3 Proxmox hosts)" : "";
  return hostNames.flatMap((host) => {
    const on = etcdMembers.filter((p) => p.proxmoxNode === host);
    if (on.length < majority) return [];
    return [
      `pgFailover: auto: losing host "${host}" takes ${on.length} of the ${etcdMembers.length} etcd members (${on.map((p) => p.name).join(", ")}): no quorum, so Patroni demotes the primary and nothing takes writes; put the witness ${ETCD_WITNESS_NAME} on a third host${needsThird} with nodes.${ETCD_WITNESS_NAME}.proxmoxNode (pg1 and pg2 with nodes.<name>.proxmoxNode), or set allowUnsafePlacement: true`,
    ];
  });
}

/**
 * The Proxmox hosts of a stack (`proxmoxHosts`), and where each node goes: a group's replicas are
 * spread over the hosts (anti-affinity) unless nodes.<name>.proxmoxNode pins one, and a layout that
 * one host loss would take down is refused.
 */
import { Problems } from "./problems";
import { HOSTNAME, USER_NAME, isRecord } from "./syntax";
import type { NodePlan, NodeRole, ProxmoxHost } from "./types";

const HOST_FIELDS = ["sshHost", "sshPort", "sshUser", "sshPrivateKey"] as const;

/**
 * proxmoxHosts as a list; without it, the one host the scalar settings describe. Every host
 * defaults to the shared SSH port, user and key.
 */
export function parseHosts(
  value: Record<string, unknown>,
  shared: ProxmoxHost,
  p: Problems,
): ProxmoxHost[] {
  if (Object.keys(value).length === 0) return [shared];
  const hosts: ProxmoxHost[] = [];
  for (const [name, entry] of Object.entries(value)) {
    const base = `proxmoxHosts.${name}`;
    if (!HOSTNAME.test(name)) p.add(base, "must be a Proxmox node name", name);
    if (!isRecord(entry)) {
      p.add(base, `must be an object { ${HOST_FIELDS.join(", ")} }`, entry);
      continue;
    }
    for (const field of Object.keys(entry)) {
      if (!(HOST_FIELDS as readonly string[]).includes(field)) {
        p.add(`${base}.${field}`, `unknown field (known: ${HOST_FIELDS.join(", ")})`, field);
      }
    }
    const host: ProxmoxHost = { ...shared, name };
    const { sshHost, sshPort, sshUser, sshPrivateKey } = entry;
    if (typeof sshHost === "string" && HOSTNAME.test(sshHost)) host.sshHost = sshHost;
    else p.add(`${base}.sshHost`, "must be a host name or address", sshHost);
    if (sshPort !== undefined) {
      const port = typeof sshPort === "string" ? Number(sshPort) : sshPort;
      if (typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535) {
        host.sshPort = port;
      } else p.add(`${base}.sshPort`, "must be an integer from 1 to 65535", sshPort);
    }
    if (sshUser !== undefined) {
      if (typeof sshUser === "string" && USER_NAME.test(sshUser)) host.sshUser = sshUser;
      else p.add(`${base}.sshUser`, "must be a user name", sshUser);
    }
    if (sshPrivateKey !== undefined) {
      // Never echo a key, not even a malformed one.
      if (typeof sshPrivateKey === "string" && sshPrivateKey !== "") {
        host.sshPrivateKey = sshPrivateKey;
      } else p.addText(`${base}.sshPrivateKey: must be a non-empty string (value not shown)`);
    }
    hosts.push(host);
  }
  return hosts;
}

/** The anti-affinity group of a role: replicas of one group avoid sharing a host. */
export function placementGroup(role: NodeRole): string {
  return role === "pg-primary" || role === "pg-standby" ? "postgres" : role;
}

/**
 * The host of every node, in plan order: pinned nodes where they are pinned; each other node on
 * the host with the fewest nodes of its group, then the fewest nodes, then the first.
 */
export function placeNodes(
  nodes: ReadonlyArray<{ name: string; role: NodeRole; pinned?: string }>,
  hostNames: readonly string[],
): string[] {
  const total = new Map(hostNames.map((h) => [h, 0]));
  const perGroup = new Map<string, number>();
  const count = (group: string, host: string) => perGroup.get(`${group}@${host}`) ?? 0;
  const take = (group: string, host: string) => {
    total.set(host, (total.get(host) ?? 0) + 1);
    perGroup.set(`${group}@${host}`, count(group, host) + 1);
  };
  const placed: (string | undefined)[] = nodes.map((n) => n.pinned);
  nodes.forEach((n) => n.pinned && take(placementGroup(n.role), n.pinned));
  nodes.forEach((n, i) => {
    if (placed[i]) return;
    const group = placementGroup(n.role);
    const best = [...hostNames].sort(
      (a, b) =>
        count(group, a) - count(group, b) ||
        (total.get(a) ?? 0) - (total.get(b) ?? 0) ||
        hostNames.indexOf(a) - hostNames.indexOf(b),
    )[0];
    placed[i] = best;
    take(group, best);
  });
  return placed as string[];
}

/** What one host loss must not take, with more than one host. */
function lossProblems(plans: readonly NodePlan[], host: string): string[] {
  const on = (list: NodePlan[]) => list.filter((p) => p.proxmoxNode === host);
  const names = (list: NodePlan[]) => list.map((p) => p.name).join(", ");
  const out: string[] = [];
  const pg = plans.filter((p) => placementGroup(p.role) === "postgres");
  if (pg.length > 1 && on(pg).length === pg.length) {
    out.push(`both PostgreSQL nodes (${names(pg)})`);
  }
  const lbs = plans.filter((p) => p.role === "nginx");
  if (lbs.length > 1 && on(lbs).length === lbs.length) {
    out.push(`both load balancers (${names(lbs)})`);
  }
  const apps = plans.filter((p) => p.role === "app");
  if (apps.length > 0 && on(apps).length === apps.length) {
    out.push(`every app node (${names(apps)})`);
  }
  const voters = plans.filter((p) => p.kafkaRoles?.includes("controller"));
  if (on(voters).length > Math.floor(voters.length / 2)) {
    out.push(
      `a majority of the KRaft controller voters (${names(on(voters))} of ${voters.length})`,
    );
  }
  return out;
}

/**
 * With more than one host: one problem per host whose loss would take down a layer, naming the
 * nodes and the host. A single host is the paper's layout and is not checked.
 */
export function placementProblems(
  plans: readonly NodePlan[],
  hostNames: readonly string[],
  allowUnsafe: boolean,
): string[] {
  if (hostNames.length < 2 || allowUnsafe) return [];
  return hostNames.flatMap((host) => {
    const lost = lossProblems(plans, host);
    if (lost.length === 0) return [];
    return [
      `placement: losing host "${host}" takes ${lost.join(" and ")}; move nodes with nodes.<name>.proxmoxNode, add a host, or set allowUnsafePlacement: true`,
    ];
  });
}

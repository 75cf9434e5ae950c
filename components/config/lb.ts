/**
 * The LB pair's virtual IP (lbVirtualIp): a given address checked against the network, the
 * gateway and every node, or the derived default.
 */
import {
  broadcastAddress,
  highestFreeHost,
  inCidr,
  isIpv4,
  networkAddress,
  type Cidr,
} from "./net";
import type { Problems } from "./problems";
import type { NetworkSettings, NodePlan, NodeOverride } from "./types";

const KEY = "lbVirtualIp";

/**
 * lbVrrpAdvertIntervalMs: VRRPv3 counts centiseconds (keepalived rounds anything else). Below
 * 100 ms a busy container may miss adverts and flap; the default 500 ms notices a silent MASTER
 * in about 1.8 s.
 */
export const VRRP_ADVERT_INTERVAL_MS = { min: 100, max: 10000, step: 10 } as const;

/** lbProbeIntervalMs and lbProbeTimeoutMs: below 50 ms a busy LB would call live nodes silent. */
export const LB_PROBE_MS = { min: 50, max: 10000 } as const;

/** How a node's address is named in a problem: the override that set it, or derived. */
function ipSource(plan: NodePlan, overrides: Record<string, NodeOverride>): string {
  return overrides[plan.name]?.ip !== undefined ? `nodes.${plan.name}.ip` : "derived";
}

/**
 * The virtual IP of the LB pair: `given` when it is a usable host address of the network that is
 * neither the gateway nor a node's address (each violation a problem naming lbVirtualIp and the
 * address); empty `given` means the highest such address (stable when nodes are added, which
 * take addresses from the bottom). Returns "" only together with a problem.
 */
export function resolveVirtualIp(
  given: string,
  cidr: Cidr,
  network: Pick<NetworkSettings, "cidr" | "gateway">,
  plans: readonly NodePlan[],
  overrides: Record<string, NodeOverride>,
  p: Problems,
): string {
  if (given === "") {
    const taken = new Set([network.gateway, ...plans.map((n) => n.ip)]);
    const derived = highestFreeHost(cidr, taken);
    if (derived !== undefined) return derived;
    p.add(
      KEY,
      `no free host address left in networkCidr ${network.cidr} for the derived default; give one`,
      given,
    );
    return "";
  }
  const before = p.list.length;
  if (!isIpv4(given)) {
    p.add(KEY, "must be an IPv4 address, or empty to derive one from networkCidr", given);
  } else if (given === networkAddress(cidr)) {
    p.add(KEY, `is the network address of networkCidr ${network.cidr}`, given);
  } else if (given === broadcastAddress(cidr)) {
    p.add(KEY, `is the broadcast address of networkCidr ${network.cidr}`, given);
  } else if (!inCidr(given, cidr)) {
    p.add(KEY, `outside networkCidr ${network.cidr}`, given);
  } else if (given === network.gateway) {
    p.add(KEY, "equals networkGateway", given);
  } else {
    for (const plan of plans.filter((n) => n.ip === given)) {
      p.add(KEY, `equals the address of node ${plan.name} (${ipSource(plan, overrides)})`, given);
    }
  }
  return p.list.length === before ? given : "";
}

/**
 * A scratch network namespace on the sandbox bridge (pure parts): a client with an address of
 * the sandbox subnet that is none of the stack's, to probe the stack from "another machine on the
 * network". The commands create it and remove it again; removal is safe to repeat.
 */
import { formatIpv4, parseCidr, parseIpv4 } from "../../sandbox/net-plan";

export interface ScratchNetnsPlan {
  netns: string;
  /** the host end of the veth pair, a port of the bridge */
  hostIf: string;
  /** the namespace's end */
  nsIf: string;
  bridge: string;
  /** ip/prefix inside the namespace */
  address: string;
  ip: string;
}

/** The highest host address of `subnet` that is not in `used` (nodes, VIP, gateway). */
export function scratchAddress(subnet: string, used: readonly string[]): string {
  const cidr = parseCidr(subnet);
  const taken = new Set(used);
  const size = 2 ** (32 - cidr.prefix);
  for (let host = size - 2; host >= 1; host--) {
    const ip = formatIpv4(cidr.network + host);
    if (!taken.has(ip)) return ip;
  }
  throw new Error(`no free address left in ${subnet} for a scratch client`);
}

/** Names from a small number (the drill's pid): interface names stay within 15 characters. */
export function scratchNetnsPlan(
  id: number,
  bridge: string,
  subnet: string,
  used: readonly string[],
): ScratchNetnsPlan {
  const n = Math.abs(Math.trunc(id)) % 100000;
  const ip = scratchAddress(subnet, used);
  parseIpv4(ip);
  return {
    netns: `pvehasec${n}`,
    hostIf: `pvhs${n}h`,
    nsIf: `pvhs${n}n`,
    bridge,
    address: `${ip}/${parseCidr(subnet).prefix}`,
    ip,
  };
}

/** `ip` argument lists that create the namespace, in order. */
export function createCommands(p: ScratchNetnsPlan): string[][] {
  return [
    ["netns", "add", p.netns],
    ["link", "add", p.hostIf, "type", "veth", "peer", "name", p.nsIf, "netns", p.netns],
    ["link", "set", p.hostIf, "master", p.bridge],
    ["link", "set", p.hostIf, "up"],
    ["-n", p.netns, "link", "set", "lo", "up"],
    ["-n", p.netns, "addr", "add", p.address, "dev", p.nsIf],
    ["-n", p.netns, "link", "set", p.nsIf, "up"],
  ];
}

/** `ip` argument lists that remove it (each may fail when already gone). */
export function removeCommands(p: ScratchNetnsPlan): string[][] {
  return [
    ["link", "delete", p.hostIf],
    ["netns", "delete", p.netns],
  ];
}

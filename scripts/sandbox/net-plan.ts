/** Pure IPv4 helpers for the sandbox bridge: parse CIDRs and find overlaps with host routes. */

export interface Ipv4Cidr {
  readonly network: number;
  readonly prefix: number;
}

export function parseIpv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : 2 ** 32 - 2 ** (32 - prefix);
}

/** "10.1.2.3/24" -> network 10.1.2.0, prefix 24. A bare address is a /32. */
export function parseCidr(text: string): Ipv4Cidr {
  const [addr, prefixText, extra] = text.split("/");
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  }
  const ip = parseIpv4(addr);
  return { network: Number((BigInt(ip) & BigInt(maskOf(prefix))).toString()), prefix };
}

export function cidrContains(cidr: Ipv4Cidr, ip: number): boolean {
  const size = 2 ** (32 - cidr.prefix);
  return ip >= cidr.network && ip < cidr.network + size;
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContains(a, b.network) || cidrContains(b, a.network);
}

export interface HostRoute {
  readonly dst: string; // "default", "10.0.0.0/8" or a bare address
  readonly dev?: string;
}

/**
 * Routes and addresses of the host that overlap the sandbox subnet, ignoring the sandbox's own
 * bridge. The default route (0.0.0.0/0) is not a conflict: it only says where the outside is.
 */
export function findSubnetConflicts(
  subnet: string,
  routes: HostRoute[],
  ownBridge: string,
): string[] {
  const mine = parseCidr(subnet);
  return routes
    .filter((r) => r.dev !== ownBridge && r.dst !== "default")
    .filter((r) => {
      const other = parseCidr(r.dst);
      return other.prefix > 0 && cidrsOverlap(mine, other);
    })
    .map((r) => `${r.dst}${r.dev ? ` dev ${r.dev}` : ""}`);
}

/**
 * A fixed, locally administered MAC for the sandbox bridge, derived from its gateway address. A
 * Linux bridge without one takes the lowest MAC of its ports and changes it when that container
 * stops or a new veth comes up; every container's ARP entry for the gateway then points at the
 * old MAC and host <-> container traffic stalls until the entries expire (~30 s). A Proxmox
 * vmbr keeps its NIC's MAC, so this only pins the sandbox to the real host's behaviour.
 */
export function bridgeMacAddress(gateway: string): string {
  const ip = parseIpv4(gateway);
  const octets = [24, 16, 8, 0].map((shift) => (Math.floor(ip / 2 ** shift) & 0xff).toString(16));
  return ["02", "00", ...octets.map((o) => o.padStart(2, "0"))].join(":");
}

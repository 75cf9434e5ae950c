/** IPv4 arithmetic for the node plan. */

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

export interface Cidr {
  network: number;
  prefix: number;
}

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

export function ipToInt(ip: string): number {
  if (!isIpv4(ip)) throw new Error(`not an IPv4 address: "${ip}"`);
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function intToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Parses `a.b.c.d/p`; returns undefined when it is not a CIDR with the host bits zero. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!match || !isIpv4(match[1])) return undefined;
  const prefix = Number(match[2]);
  if (prefix < 8 || prefix > 30) return undefined;
  const network = ipToInt(match[1]);
  if (network % 2 ** (32 - prefix) !== 0) return undefined;
  return { network, prefix };
}

export function hostCount(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix) - 2;
}

/** True when ip is a usable host address of cidr (not the network or broadcast address). */
export function inCidr(ip: string, cidr: Cidr): boolean {
  if (!isIpv4(ip)) return false;
  const offset = ipToInt(ip) - cidr.network;
  return offset >= 1 && offset <= hostCount(cidr);
}

/** The address with host number `host` (1-based) inside cidr. */
export function hostAddress(cidr: Cidr, host: number): string {
  if (!Number.isInteger(host) || host < 1 || host > hostCount(cidr)) {
    throw new Error(`host number ${host} is outside ${intToIp(cidr.network)}/${cidr.prefix}`);
  }
  return intToIp(cidr.network + host);
}

/** The network address of cidr (host number 0). */
export function networkAddress(cidr: Cidr): string {
  return intToIp(cidr.network);
}

/** The broadcast address of cidr (the last address). */
export function broadcastAddress(cidr: Cidr): string {
  return intToIp(cidr.network + hostCount(cidr) + 1);
}

/**
 * The highest usable host address of cidr that is not in `taken` (the gateway, the nodes'
 * addresses): counted from the top, it stays put when nodes are added from the bottom.
 * Undefined when every address is taken.
 */
export function highestFreeHost(cidr: Cidr, taken: ReadonlySet<string>): string | undefined {
  for (let host = hostCount(cidr); host >= 1; host--) {
    const ip = hostAddress(cidr, host);
    if (!taken.has(ip)) return ip;
  }
  return undefined;
}

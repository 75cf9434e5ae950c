/**
 * Each container's own firewall (nftables, Debian 12) built from the exposure matrix: one table
 * `inet pve_ha` whose input chain drops everything that no ExposureRule of the node accepts. The
 * file starts by deleting the table, so `nft -f <file>` replaces it whole and re-applying the
 * same file changes nothing. Output is not filtered; replies to what the node sends come back
 * through the `ct state established,related` rule.
 */
import { ANYWHERE, type ExposureRule } from "../config/exposure";

export const NFT_TABLE = "pve_ha";
/** Debian's nftables.service loads this file at boot. */
export const NFT_CONF_PATH = "/etc/nftables.conf";
/** sysctl file of nftables-configure: liberal TCP conntrack (see the payload). */
export const NFT_CONNTRACK_SYSCTL_PATH = "/etc/sysctl.d/60-pve-ha-conntrack.conf";

/** IANA protocol number of VRRP: numeric, so no /etc/protocols is needed to load the file. */
const VRRP_IP_PROTOCOL = 112;

/** nftables refuses a rule comment longer than this (NFTNL_UDATA_COMMENT_MAXLEN). */
const COMMENT_MAX = 128;

interface Ipv4Source {
  address: number;
  prefix: number;
}

function parseSource(source: string): Ipv4Source {
  const [ip, prefix] = source.split("/");
  const address = ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  return { address, prefix: prefix === undefined ? 32 : Number(prefix) };
}

function covers(net: Ipv4Source, other: Ipv4Source): boolean {
  if (net.prefix > other.prefix) return false;
  const size = 2 ** (32 - net.prefix);
  return Math.floor(net.address / size) === Math.floor(other.address / size);
}

function compareSources(a: string, b: string): number {
  const x = parseSource(a);
  const y = parseSource(b);
  return x.address - y.address || x.prefix - y.prefix;
}

/**
 * The sources in address order, each once, without those a wider source already covers: nft
 * would merge them anyway, this way the file reads as what `nft list ruleset` shows.
 */
export function normalizeSources(sources: readonly string[]): string[] {
  const unique = [...new Set(sources)].sort(compareSources);
  return unique.filter(
    (s) => !unique.some((other) => other !== s && covers(parseSource(other), parseSource(s))),
  );
}

/**
 * A comment as nft accepts it: its strings know no escapes (`\"` ends the string), so double
 * quotes become single ones; line breaks and other control characters become spaces.
 */
export function nftComment(purpose: string): string {
  const text = [...purpose]
    .map((c) => (c === '"' ? "'" : c < " " || c === "\x7f" ? " " : c))
    .join("")
    .slice(0, COMMENT_MAX);
  return `comment "${text}"`;
}

function saddrMatch(sources: readonly string[]): string {
  if (normalizeSources(sources).includes(ANYWHERE)) return "";
  return `ip saddr ${saddrSet(sources)} `;
}

function protoMatch(rule: ExposureRule): string {
  switch (rule.proto) {
    case "tcp":
    case "udp":
      if (rule.port === undefined) throw new Error(`${rule.node}: ${rule.proto} rule without port`);
      return `${rule.proto} dport ${rule.port}`;
    case "icmp":
      return "icmp type echo-request";
    case "vrrp":
      return `ip protocol ${VRRP_IP_PROTOCOL}`;
  }
}

/** One accept line of the input chain. */
export function renderAcceptRule(rule: ExposureRule): string {
  return `${saddrMatch(rule.sources)}${protoMatch(rule)} accept ${nftComment(rule.purpose)}`;
}

const PROTO_ORDER: readonly ExposureRule["proto"][] = ["icmp", "vrrp", "tcp", "udp"];

/** Rule order independent of the input order: protocol, port, purpose, sources. */
function compareRules(a: ExposureRule, b: ExposureRule): number {
  return (
    PROTO_ORDER.indexOf(a.proto) - PROTO_ORDER.indexOf(b.proto) ||
    (a.port ?? 0) - (b.port ?? 0) ||
    a.purpose.localeCompare(b.purpose, "en") ||
    normalizeSources(a.sources).join(",").localeCompare(normalizeSources(b.sources).join(","), "en")
  );
}

/**
 * The rule for flows that were open before the first load (the firewall is the node's last
 * step): conntrack meets them mid-stream, and when the first packet it sees comes from the far
 * end (a reply to a request sent just before the load, e.g. a Kafka follower's long-poll fetch)
 * that packet is `ct state new` on a port no rule opens. Dropped, it is never acknowledged, the
 * node never answers, and the connection stalls until a client timeout (30 s in the sandbox: the
 * follower left the ISR). A non-SYN packet cannot open a connection, so accepting it from the
 * stack's own nodes opens no new path; a SYN still needs an accept rule.
 */
export function renderMidStreamRule(peers: readonly string[]): string {
  return `ip saddr ${saddrSet(peers)} tcp flags & (fin | syn | rst | ack) == ack ct state new accept ${nftComment("flows open before the firewall, met mid-stream")}`;
}

function saddrSet(sources: readonly string[]): string {
  const normalized = normalizeSources(sources);
  return normalized.length === 1 ? normalized[0] : `{ ${normalized.join(", ")} }`;
}

/**
 * The complete ruleset file of one container, from its own rules only. `peers`: the addresses of
 * the stack's other nodes (see renderMidStreamRule); none, no such rule.
 */
export function renderNodeFirewall(
  nodeName: string,
  rules: readonly ExposureRule[],
  peers: readonly string[] = [],
): string {
  const accepts = rules
    .filter((r) => r.node === nodeName && r.sources.length > 0)
    .sort(compareRules)
    .map(renderAcceptRule);
  const input = [
    "type filter hook input priority 0; policy drop;",
    "ct state established,related accept",
    "ct state invalid drop",
    "iif lo accept",
    ...(peers.length > 0 ? [renderMidStreamRule(peers)] : []),
    ...accepts,
  ];
  return [
    `# pve-ha-stack: the firewall of ${nodeName}, rendered from the exposure rules.`,
    `# Declaring the table first makes the delete succeed on a host that has none yet.`,
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    "  chain input {",
    ...input.map((line) => `    ${line}`),
    "  }",
    "",
    "  chain output {",
    "    type filter hook output priority 0; policy accept;",
    "  }",
    "}",
    "",
  ].join("\n");
}

/** The addresses of every node of `plans` but `self`: its peers for renderMidStreamRule. */
export function firewallPeers(
  plans: readonly { name: string; ip: string }[],
  self: string,
): string[] {
  return plans.filter((p) => p.name !== self).map((p) => p.ip);
}

/** Every node's ruleset file, keyed by plan name. */
export function renderAllNodeFirewalls(
  plans: readonly { name: string; ip: string }[],
  rules: readonly ExposureRule[],
): Record<string, string> {
  return Object.fromEntries(
    plans.map((p) => [p.name, renderNodeFirewall(p.name, rules, firewallPeers(plans, p.name))]),
  );
}

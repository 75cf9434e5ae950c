/**
 * The exposure matrix as the security drill walks it (pure): every TCP (node, port) of the stack's
 * `exposure` output, with whether a given source address may reach it, a bash probe of many
 * targets at once, its parser and the verdicts. Nothing here knows a port: they all come from the
 * outputs.
 */
import type { ExposureRule } from "../../../components/config/exposure";
import type { StackNode } from "../outputs";

/** What a TCP connection attempt found within the probe's timeout. */
export type ProbeState = "open" | "refused" | "dropped";

export interface MatrixTarget {
  node: string;
  ip: string;
  port: number;
  /** The purposes of the node's rules for this port, joined. */
  purpose: string;
  /** The source may reach it according to the exposure rules. */
  allowed: boolean;
}

export interface MatrixCell extends MatrixTarget {
  state: ProbeState;
  /** allowed and open, or forbidden and not open. */
  ok: boolean;
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** `ip` is the address `source` names, or inside the CIDR `source`. */
export function sourceMatches(source: string, ip: string): boolean {
  const [net, prefixText] = source.split("/");
  if (prefixText === undefined) return net === ip;
  const size = 2 ** (32 - Number(prefixText));
  return Math.floor(ipToInt(ip) / size) === Math.floor(ipToInt(net) / size);
}

/**
 * One target per TCP (node, port) of the rules, in rule order: allowed for `sourceIp` when any rule
 * of that node and port lists a source that matches it.
 */
export function expandMatrix(
  rules: readonly ExposureRule[],
  nodes: readonly StackNode[],
  sourceIp: string,
): MatrixTarget[] {
  const byKey = new Map<string, MatrixTarget>();
  for (const rule of rules) {
    if (rule.proto !== "tcp" || rule.port === undefined) continue;
    const node = nodes.find((n) => n.name === rule.node);
    if (!node) throw new Error(`exposure names node ${rule.node}, which the outputs do not have`);
    // A node reaching its own address never crosses its interface (loopback): not a path.
    if (node.ip === sourceIp) continue;
    const key = `${rule.node}:${rule.port}`;
    const allowed = rule.sources.some((s) => sourceMatches(s, sourceIp));
    const seen = byKey.get(key);
    if (seen) {
      seen.allowed ||= allowed;
      if (!seen.purpose.includes(rule.purpose)) seen.purpose += `; ${rule.purpose}`;
    } else {
      byKey.set(key, {
        node: rule.node,
        ip: node.ip,
        port: rule.port,
        purpose: rule.purpose,
        allowed,
      });
    }
  }
  return [...byKey.values()];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * A bash script that tries every target at once (bash's /dev/tcp, no tool needed) and prints one
 * line `<ip> <port> open|refused|dropped` each: dropped = no answer within `timeoutS`.
 */
export function renderProbeScript(
  targets: ReadonlyArray<{ ip: string; port: number }>,
  timeoutS: number,
): string {
  for (const t of targets) {
    if (!IPV4.test(t.ip) || !Number.isInteger(t.port) || t.port < 1 || t.port > 65535) {
      throw new Error(`probe target must be an IPv4 address and a port (got ${t.ip}:${t.port})`);
    }
  }
  if (!(timeoutS > 0 && timeoutS <= 10)) throw new Error(`probe timeout 0-10 s (got ${timeoutS})`);
  return [
    "set -u",
    "probe() {",
    "  # shellcheck disable=SC2016 # $0 and $1 are the inner shell's arguments",
    `  if timeout ${timeoutS} bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; then`,
    '    echo "$1 $2 open"',
    "  elif [ $? -eq 124 ]; then",
    '    echo "$1 $2 dropped"',
    "  else",
    '    echo "$1 $2 refused"',
    "  fi",
    "}",
    ...targets.map((t) => `probe ${t.ip} ${t.port} &`),
    "wait",
    "",
  ].join("\n");
}

/** The probe script's lines by `ip:port`; throws on a line it does not know. */
export function parseProbeOutput(text: string): Map<string, ProbeState> {
  const out = new Map<string, ProbeState>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = /^(\S+) (\d+) (open|refused|dropped)$/.exec(line.trim());
    if (!m) throw new Error(`unexpected probe output line: ${line}`);
    out.set(`${m[1]}:${m[2]}`, m[3] as ProbeState);
  }
  return out;
}

/** Each target with what the probe found: a target the probe did not report is an error. */
export function judgeMatrix(
  targets: readonly MatrixTarget[],
  found: ReadonlyMap<string, ProbeState>,
): MatrixCell[] {
  return targets.map((t) => {
    const state = found.get(`${t.ip}:${t.port}`);
    if (!state) throw new Error(`the probe did not report ${t.node} ${t.ip}:${t.port}`);
    return { ...t, state, ok: t.allowed ? state === "open" : state !== "open" };
  });
}

import type {
  BackupEndpoint,
  HostEndpoint,
  PgFailoverEndpoint,
  StackEndpoints,
  StackSettings,
} from "../../components/config/endpoints";
import { MANUAL_FAILOVER_ENDPOINT } from "../../components/config/endpoints";
import type { ExposureProto, ExposureRule } from "../../components/config/exposure";

export { endpointPort } from "../../components/config/endpoints";

export interface StackNode {
  name: string;
  vmid: number;
  ip: string;
  role: string;
  proxmoxNode: string;
  /** Kafka nodes: KRaft node.id, when the stack exports it. */
  kafkaNodeId?: number;
  kafkaRoles?: string[];
}

/**
 * The stack outputs the drills use: the program's own StackEndpoints (index.ts exports), with the
 * nodes as a list and Grafana optional (an older or Grafana-less stack may not export it).
 */
export type StackOutputs = Omit<StackEndpoints, "nodes" | "grafanaUrl" | "haproxyStatsUrl"> & {
  grafanaUrl?: string;
  nodes: StackNode[];
  /**
   * The /admin password when the outputs were read with their secrets (the sandbox's file);
   * absent from `pulumi stack output --json` (runtime/stackOutputs.ts asks for it alone).
   */
  adminPassword?: string;
};

const SETTING_NUMBERS = [
  "appPort",
  "lbReplicas",
  "lbVrrpAdvertIntervalMs",
  "kafkaPartitions",
  "kafkaReplicationFactor",
  "kafkaMinInsyncReplicas",
  "kafkaControllerVoters",
  "appKafkaPublishDeadlineMs",
] as const;
const SETTING_STRINGS = ["lbAlgorithm", "kafkaTopic", "pgDatabase", "lbAdminUser"] as const;
/** The front door's switches (README "Front door security"). */
const SETTING_BOOLEANS = ["lbRedirectHttp", "lbAdminAuth", "containerFirewall"] as const;
const LB_TLS_MODES = ["off", "self-signed", "provided"];
const EXPOSURE_PROTOS: readonly ExposureProto[] = ["tcp", "udp", "icmp", "vrrp"];
const CIDR_OR_IP = /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/;

/** outputs.exposure: who may reach what, as the program computed it (config/exposure.ts). */
function parseExposure(raw: unknown, problems: string[]): ExposureRule[] {
  if (!Array.isArray(raw)) {
    problems.push(
      "exposure: missing (outputs of a stack older than the front door's security; deploy the current program)",
    );
    return [];
  }
  const rules: ExposureRule[] = [];
  raw.forEach((r: unknown, i) => {
    const ok =
      isRecord(r) &&
      typeof r.node === "string" &&
      EXPOSURE_PROTOS.includes(r.proto as ExposureProto) &&
      (r.port === undefined || (Number.isInteger(r.port) && Number(r.port) > 0)) &&
      Array.isArray(r.sources) &&
      r.sources.every((src) => typeof src === "string" && CIDR_OR_IP.test(src)) &&
      typeof r.purpose === "string";
    if (!ok) {
      problems.push(
        `exposure[${i}]: expected {node, proto, port?, sources, purpose} (got ${JSON.stringify(r)})`,
      );
      return;
    }
    rules.push({
      node: r.node as string,
      proto: r.proto as ExposureProto,
      ...(r.port === undefined ? {} : { port: Number(r.port) }),
      sources: (r.sources as string[]).map(String),
      purpose: r.purpose as string,
    });
  });
  return rules;
}

/** outputs.pgBackup: the backup repository the restore drill uses. */
function parsePgBackup(raw: unknown, problems: string[]): BackupEndpoint {
  if (!isRecord(raw)) {
    problems.push(
      "pgBackup: missing (outputs of a stack older than backups; deploy the current program)",
    );
    return {
      enabled: false,
      repoNode: "",
      stanza: "",
      restoreScratchPort: 0,
      archiveTimeoutSeconds: 0,
    };
  }
  const { enabled, repoNode, stanza, restoreScratchPort, archiveTimeoutSeconds } = raw;
  if (typeof enabled !== "boolean")
    problems.push(`pgBackup.enabled: expected a boolean (got ${JSON.stringify(enabled)})`);
  if (typeof repoNode !== "string" || (enabled === true && repoNode === ""))
    problems.push(`pgBackup.repoNode: expected a node name (got ${JSON.stringify(repoNode)})`);
  if (typeof stanza !== "string" || stanza === "")
    problems.push(`pgBackup.stanza: expected a stanza name (got ${JSON.stringify(stanza)})`);
  for (const [key, v] of Object.entries({ restoreScratchPort, archiveTimeoutSeconds })) {
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
      problems.push(`pgBackup.${key}: expected a positive integer (got ${JSON.stringify(v)})`);
  }
  return {
    enabled: enabled === true,
    repoNode: String(repoNode),
    stanza: String(stanza),
    restoreScratchPort: Number(restoreScratchPort),
    archiveTimeoutSeconds: Number(archiveTimeoutSeconds),
  };
}

const HOST_PORT = /^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/;

/** outputs.pgFailover; absent on stacks deployed before the setting, which fail over by hand. */
function parsePgFailover(raw: unknown, problems: string[]): PgFailoverEndpoint {
  if (raw === undefined) return MANUAL_FAILOVER_ENDPOINT;
  if (!isRecord(raw) || (raw.mode !== "manual" && raw.mode !== "auto")) {
    problems.push(`pgFailover: expected {mode: manual|auto, ...} (got ${JSON.stringify(raw)})`);
    return MANUAL_FAILOVER_ENDPOINT;
  }
  if (raw.mode === "manual") return MANUAL_FAILOVER_ENDPOINT;
  const { patroniScope, patroniRestApis, etcdMembers, etcdEndpoints, synchronous } = raw;
  const bound = raw.writeResumeBoundMs;
  const apis = isRecord(patroniRestApis) ? Object.entries(patroniRestApis) : [];
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);
  const members = strings(etcdMembers);
  const endpoints = strings(etcdEndpoints);
  const ok =
    typeof patroniScope === "string" &&
    patroniScope !== "" &&
    apis.length === 2 &&
    apis.every(([, a]) => typeof a === "string" && HOST_PORT.test(a)) &&
    members.length === 3 &&
    endpoints.length === 3 &&
    endpoints.every((e) => HOST_PORT.test(e)) &&
    typeof synchronous === "boolean" &&
    typeof bound === "number" &&
    Number.isInteger(bound) &&
    bound > 0;
  if (!ok) {
    problems.push(
      `pgFailover: expected {patroniScope, patroniRestApis (2), etcdMembers (3), etcdEndpoints (3), synchronous, writeResumeBoundMs} for mode auto (got ${JSON.stringify(raw)})`,
    );
    return MANUAL_FAILOVER_ENDPOINT;
  }
  return {
    mode: "auto",
    patroniScope: String(patroniScope),
    patroniRestApis: Object.fromEntries(apis.map(([k, v]) => [k, String(v)])),
    etcdMembers: members,
    etcdEndpoints: endpoints,
    synchronous: synchronous === true,
    writeResumeBoundMs: Number(bound),
  };
}

/** outputs.settings, every key present: the drills judge by these and never guess a default. */
function parseSettings(raw: unknown, problems: string[]): StackSettings {
  if (!isRecord(raw)) {
    problems.push(
      `settings: missing (outputs of a stack older than the settings output; deploy the current program)`,
    );
    return {} as StackSettings;
  }
  const out: Record<string, string | number> = {};
  for (const key of SETTING_NUMBERS) {
    const v = raw[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      problems.push(`settings.${key}: expected a positive integer (got ${JSON.stringify(v)})`);
    }
    out[key] = Number(v);
  }
  for (const key of SETTING_STRINGS) {
    const v = raw[key];
    if (typeof v !== "string" || v.length === 0) {
      problems.push(`settings.${key}: expected a non-empty string (got ${JSON.stringify(v)})`);
    }
    out[key] = String(v);
  }
  for (const key of ["lbPostRatePerSecond", "lbPostBurst", "lbMaxBodyBytes"] as const) {
    const v = raw[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      problems.push(`settings.${key}: expected an integer >= 0 (got ${JSON.stringify(v)})`);
    }
    out[key] = Number(v);
  }
  const flags: Record<string, boolean> = {};
  for (const key of SETTING_BOOLEANS) {
    const v = raw[key];
    if (typeof v !== "boolean") {
      problems.push(`settings.${key}: expected true or false (got ${JSON.stringify(v)})`);
    }
    flags[key] = v === true;
  }
  if (typeof raw.lbTls !== "string" || !LB_TLS_MODES.includes(raw.lbTls)) {
    problems.push(
      `settings.lbTls: expected one of ${LB_TLS_MODES.join(", ")} (got ${JSON.stringify(raw.lbTls)})`,
    );
  }
  if (typeof raw.operatorCidr !== "string" || !CIDR_OR_IP.test(raw.operatorCidr)) {
    problems.push(
      `settings.operatorCidr: expected an IPv4 CIDR (got ${JSON.stringify(raw.operatorCidr)})`,
    );
  }
  return {
    ...out,
    ...flags,
    lbTls: String(raw.lbTls),
    operatorCidr: String(raw.operatorCidr),
  } as unknown as StackSettings;
}

/** outputs.proxmoxHosts: every host's SSH access, by Proxmox node name. */
function parseHosts(raw: unknown, problems: string[]): Record<string, HostEndpoint> {
  if (!isRecord(raw) || Object.keys(raw).length === 0) {
    problems.push(
      `proxmoxHosts: expected an object of host name -> {sshHost, sshPort, sshUser} (got ${JSON.stringify(raw)})`,
    );
    return {};
  }
  const out: Record<string, HostEndpoint> = {};
  for (const [name, h] of Object.entries(raw)) {
    if (
      !isRecord(h) ||
      typeof h.sshHost !== "string" ||
      h.sshHost.length === 0 ||
      typeof h.sshUser !== "string" ||
      h.sshUser.length === 0 ||
      !Number.isInteger(h.sshPort) ||
      Number(h.sshPort) <= 0
    ) {
      problems.push(
        `proxmoxHosts.${name}: expected {sshHost, sshPort, sshUser} (got ${JSON.stringify(h)})`,
      );
      continue;
    }
    out[name] = { sshHost: h.sshHost, sshPort: Number(h.sshPort), sshUser: h.sshUser };
  }
  return out;
}

const STRING_KEYS = [
  "lbUrl",
  "adminUrl",
  "haproxyReadWrite",
  "haproxyReadOnly",
  "pgPrimary",
  "pgStandby",
  "kafkaBootstrapServers",
  "kafkaTopic",
  "prometheusUrl",
  "alertmanagerUrl",
  "proxmoxHost",
] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** outputs.lbVirtualIp ("" with one LB) and outputs.lbNodes (the LB nodes' names). */
function parseLb(
  raw: Record<string, unknown>,
  problems: string[],
): { lbVirtualIp: string; lbNodes: string[] } {
  const vip = raw.lbVirtualIp;
  if (typeof vip !== "string" || (vip !== "" && !/^\d{1,3}(\.\d{1,3}){3}$/.test(vip))) {
    problems.push(`lbVirtualIp: expected an IPv4 address or "" (got ${JSON.stringify(vip)})`);
  }
  const names = raw.lbNodes;
  if (
    !Array.isArray(names) ||
    names.length === 0 ||
    !names.every((n) => typeof n === "string" && n.length > 0)
  ) {
    problems.push(
      `lbNodes: expected a non-empty list of node names (got ${JSON.stringify(names)})`,
    );
    return { lbVirtualIp: String(vip ?? ""), lbNodes: [] };
  }
  return { lbVirtualIp: String(vip ?? ""), lbNodes: names.map(String) };
}

/** Validates `pulumi stack output --json` text; lists every problem in one Error. */
export function parseStackOutputs(text: string): StackOutputs {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`stack outputs are not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(raw))
    throw new Error(`stack outputs must be a JSON object (got ${text.slice(0, 40)})`);
  const problems: string[] = [];
  const str = (key: string): string => {
    const v = raw[key];
    if (typeof v !== "string" || v.length === 0) {
      problems.push(`${key}: expected a non-empty string (got ${JSON.stringify(v)})`);
      return "";
    }
    return v;
  };
  const values = Object.fromEntries(STRING_KEYS.map((k) => [k, str(k)])) as Record<
    (typeof STRING_KEYS)[number],
    string
  >;
  const nodes: StackNode[] = [];
  if (!isRecord(raw.nodes)) {
    problems.push(
      `nodes: expected an object of name -> {vmid, ip, role} (got ${JSON.stringify(raw.nodes)})`,
    );
  } else {
    for (const [name, n] of Object.entries(raw.nodes)) {
      if (!isRecord(n)) {
        problems.push(`nodes.${name}: expected an object (got ${JSON.stringify(n)})`);
        continue;
      }
      const vmid = Number(n.vmid);
      if (!Number.isInteger(vmid) || vmid < 100) {
        problems.push(
          `nodes.${name}.vmid: expected an integer >= 100 (got ${JSON.stringify(n.vmid)})`,
        );
      }
      if (typeof n.ip !== "string" || !/^\d{1,3}(\.\d{1,3}){3}$/.test(n.ip)) {
        problems.push(`nodes.${name}.ip: expected an IPv4 address (got ${JSON.stringify(n.ip)})`);
      }
      if (typeof n.role !== "string" || n.role.length === 0) {
        problems.push(`nodes.${name}.role: expected a role name (got ${JSON.stringify(n.role)})`);
      }
      nodes.push({
        name,
        vmid,
        ip: String(n.ip),
        role: String(n.role),
        proxmoxNode: typeof n.proxmoxNode === "string" ? n.proxmoxNode : "",
        ...(Number.isInteger(n.kafkaNodeId) ? { kafkaNodeId: Number(n.kafkaNodeId) } : {}),
        ...(Array.isArray(n.kafkaRoles) ? { kafkaRoles: n.kafkaRoles.map(String) } : {}),
      });
    }
  }
  for (const key of ["lbUrl", "adminUrl", "prometheusUrl", "alertmanagerUrl"] as const) {
    if (values[key] && !/^https?:\/\//.test(values[key])) {
      problems.push(`${key}: expected an http(s) URL (got ${values[key]})`);
    }
  }
  const settings = parseSettings(raw.settings, problems);
  const exposure = parseExposure(raw.exposure, problems);
  const lbHttpsUrl = raw.lbHttpsUrl;
  if (typeof lbHttpsUrl !== "string" || (lbHttpsUrl !== "" && !/^https:\/\//.test(lbHttpsUrl))) {
    problems.push(`lbHttpsUrl: expected an https URL or "" (got ${JSON.stringify(lbHttpsUrl)})`);
  }
  const pgBackup = parsePgBackup(raw.pgBackup, problems);
  const pgFailover = parsePgFailover(raw.pgFailover, problems);
  const lb = parseLb(raw, problems);
  const proxmoxHosts = parseHosts(raw.proxmoxHosts, problems);
  if (Object.keys(proxmoxHosts).length > 0) {
    for (const n of nodes) {
      if (!(n.proxmoxNode in proxmoxHosts)) {
        problems.push(
          `nodes.${n.name}.proxmoxNode: expected one of proxmoxHosts (${Object.keys(proxmoxHosts).join(", ")}; got ${JSON.stringify(n.proxmoxNode)})`,
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(`invalid stack outputs:\n  - ${problems.join("\n  - ")}`);
  }
  return {
    ...values,
    ...lb,
    grafanaUrl: typeof raw.grafanaUrl === "string" ? raw.grafanaUrl : undefined,
    nodes,
    proxmoxHosts,
    pgBackup,
    pgFailover,
    settings,
    exposure,
    lbHttpsUrl: String(lbHttpsUrl ?? ""),
    // `pulumi stack output --json` shows a secret as "[secret]": not the password.
    ...(typeof raw.adminPassword === "string" && raw.adminPassword !== "[secret]"
      ? { adminPassword: raw.adminPassword }
      : {}),
  };
}

/** The app nodes' HTTP port: the outputs' settings.appPort. */
export function appPort(outputs: StackOutputs): number {
  return outputs.settings.appPort;
}

/** The Proxmox hosts of the stack with the nodes each holds (host order of the outputs). */
export function nodesByHost(outputs: StackOutputs): Array<{ host: string; nodes: StackNode[] }> {
  return Object.keys(outputs.proxmoxHosts).map((host) => ({
    host,
    nodes: outputs.nodes.filter((n) => n.proxmoxNode === host),
  }));
}

export function nodesByRole(outputs: StackOutputs, role: string | RegExp): StackNode[] {
  return outputs.nodes.filter((n) =>
    typeof role === "string" ? n.role === role : role.test(n.role),
  );
}

export function nodeNamed(outputs: StackOutputs, name: string): StackNode {
  const node = outputs.nodes.find((n) => n.name === name);
  if (!node) {
    throw new Error(
      `stack has no node named ${name} (nodes: ${outputs.nodes.map((n) => n.name).join(", ")})`,
    );
  }
  return node;
}

function hostOf(endpoint: string): string {
  const withScheme = /^[a-z]+:\/\//.test(endpoint) ? endpoint : `tcp://${endpoint}`;
  return new URL(withScheme).hostname;
}

/**
 * The drills send traffic only to the stack's own nodes (and the LB pair's virtual IP). Returns
 * the endpoints whose host is none of these addresses (empty when all are safe).
 */
export function foreignEndpoints(outputs: StackOutputs): string[] {
  const ips = new Set(outputs.nodes.map((n) => n.ip));
  if (outputs.lbVirtualIp) ips.add(outputs.lbVirtualIp);
  const endpoints = [
    outputs.lbUrl,
    outputs.adminUrl,
    ...(outputs.lbHttpsUrl ? [outputs.lbHttpsUrl] : []),
    outputs.prometheusUrl,
    outputs.alertmanagerUrl,
    outputs.haproxyReadWrite,
    outputs.haproxyReadOnly,
    outputs.pgPrimary,
    outputs.pgStandby,
    ...outputs.kafkaBootstrapServers.split(","),
  ];
  return endpoints.filter((e) => !ips.has(hostOf(e.trim())));
}

/**
 * Throws unless every endpoint that will be contacted is one of the stack's nodes: all of them for
 * the drill, only the named ones (e.g. the Prometheus URL) for a tool that uses nothing else.
 */
export function refuseForeignEndpoints(outputs: StackOutputs, only?: readonly string[]): void {
  const foreign = foreignEndpoints(outputs).filter((e) => !only || only.includes(e));
  if (foreign.length > 0) {
    throw new Error(
      `refusing to send traffic to endpoints outside the stack's nodes: ${foreign.join(", ")}`,
    );
  }
}

/** Kafka nodes with their KRaft node.id (exported, else 1-based in VMID order as planNodes assigns). */
export function kafkaNodes(outputs: StackOutputs): Array<StackNode & { kafkaNodeId: number }> {
  return outputs.nodes
    .filter((n) => n.role === "kafka")
    .sort((a, b) => a.vmid - b.vmid)
    .map((n, i) => ({ ...n, kafkaNodeId: n.kafkaNodeId ?? i + 1 }));
}

/** Kafka nodes that run a controller (every Kafka node when the stack does not export roles). */
export function kafkaVoters(outputs: StackOutputs): Array<StackNode & { kafkaNodeId: number }> {
  return kafkaNodes(outputs).filter((n) => !n.kafkaRoles || n.kafkaRoles.includes("controller"));
}

/** Kafka nodes that run a broker: the nodes named in kafkaBootstrapServers. */
export function kafkaBrokers(outputs: StackOutputs): Array<StackNode & { kafkaNodeId: number }> {
  const hosts = new Set(
    outputs.kafkaBootstrapServers.split(",").map((s) => s.trim().split(":")[0]),
  );
  return kafkaNodes(outputs).filter((n) => hosts.has(n.ip));
}

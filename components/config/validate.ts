import { checkBackupRepoNode, SYSTEMD_CALENDAR } from "./backup";
import { ADMIN_USER, checkFrontDoor, parseOperatorCidr, resolveTlsMode } from "./frontDoor";
import { LB_PROBE_MS, resolveVirtualIp, VRRP_ADVERT_INTERVAL_MS } from "./lb";
import { hostCount, inCidr, isIpv4, parseCidr } from "./net";
import { nodeShapes, planNodes } from "./plan";
import { etcdPlacementProblems } from "./failoverPlan";
import { parseHosts, placementProblems } from "./hosts";
import {
  HAPROXY_CHECK_LIMITS,
  PATRONI_LIMITS,
  PG_FAILOVER_MODES,
  patroniTimingRuleProblem,
  type PgFailoverMode,
} from "./pgFailover";
import { parsePgParameters } from "./pgParameters";
import { Problems } from "./problems";
import { parseSshPublicKeys } from "./sshKeys";
import { HOSTNAME, USER_NAME, isRecord } from "./syntax";
import { CALENDAR_EVENT_OR_EMPTY } from "./vzdump";
import {
  OBJECT_SETTINGS,
  PROVIDER_KEYS,
  SCALAR_SETTINGS,
  type ScalarKey,
  type ScalarSetting,
} from "./schema";
import {
  APP_LOG_LEVELS,
  ARTIFACT_NAMES,
  LB_ALGORITHMS,
  LB_TLS_SETTINGS,
  type AppLogLevel,
  type LbTlsSetting,
  type ArtifactName,
  type ArtifactSource,
  type LbAlgorithm,
  type LbProbeSettings,
  type LbReplicas,
  type NodeOverride,
  type PgFailoverSettings,
  type StackConfig,
} from "./types";

/** Raw settings: flat config keys (scalars as strings or typed values), `nodes`, `artifacts`. */
export type RawConfig = Record<string, unknown>;

export const LIMITS = {
  cores: { min: 1, max: 32 },
  memoryMb: { min: 256, max: 262144 },
  diskGb: { min: 4, max: 4096 },
  vmid: { min: 100, max: 999999999 },
} as const;

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const PG_SIZE = /^\d+(kB|MB|GB|TB)$/;
const DURATION = /^\d+(ms|s|m|h|d|w|y)$/;
const SHA256 = /^[0-9a-f]{64}$/;
const SHA512 = /^[0-9a-f]{128}$/;
const OVERRIDE_FIELDS = ["vmid", "ip", "cores", "memoryMb", "diskGb", "proxmoxNode"] as const;

export { shown } from "./problems";

function scalarDefault(key: ScalarKey): unknown {
  const setting: ScalarSetting = SCALAR_SETTINGS[key];
  return setting.default;
}

function readString(raw: RawConfig, key: ScalarKey, p: Problems): string {
  const value = raw[key] ?? scalarDefault(key);
  if (typeof value === "string") return value;
  p.add(key, "must be a string", value);
  return "";
}

function toInteger(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function readInt(raw: RawConfig, key: ScalarKey, min: number, max: number, p: Problems): number {
  const value = raw[key] ?? scalarDefault(key);
  const n = toInteger(value);
  if (n === undefined) {
    p.add(key, "must be an integer", value);
    return min;
  }
  if (n < min || n > max) p.add(key, `must be between ${min} and ${max}`, n);
  return n;
}

function readBool(raw: RawConfig, key: ScalarKey, p: Problems): boolean {
  const value = raw[key] ?? scalarDefault(key);
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  p.add(key, "must be true or false", value);
  return false;
}

function readChoice<T extends string>(
  raw: RawConfig,
  key: ScalarKey,
  choices: readonly T[],
  p: Problems,
): T {
  const value = readString(raw, key, p);
  if ((choices as readonly string[]).includes(value)) return value as T;
  p.add(key, `must be one of ${choices.join(", ")}`, value);
  return choices[0];
}

function readMatching(raw: RawConfig, key: ScalarKey, pattern: RegExp, what: string, p: Problems) {
  const value = readString(raw, key, p);
  if (!pattern.test(value)) p.add(key, `must be ${what}`, value);
  return value;
}

function requireSecret(raw: RawConfig, key: string, p: Problems): string {
  const value = raw[key];
  if (typeof value === "string" && value.trim() !== "") return value;
  p.list.push(
    `${key}: required secret is missing (set it with \`pulumi config set --secret ${key}\`)`,
  );
  return "";
}

/** An optional secret string: "" when unset; never shown in a problem. */
function readOptionalSecret(raw: RawConfig, key: ScalarKey, p: Problems): string {
  const value = raw[key];
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  p.addText(`${key}: must be a string (value not shown: secret)`);
  return "";
}

function readObject(raw: RawConfig, key: string, p: Problems): Record<string, unknown> {
  const value = raw[key];
  if (value === undefined || value === "") return {};
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      p.add(key, "must be an object", value);
      return {};
    }
  }
  if (isRecord(parsed)) return parsed;
  p.add(key, "must be an object", value);
  return {};
}

function endpointHost(endpoint: string): string | undefined {
  try {
    const url = new URL(endpoint);
    return url.protocol === "https:" || url.protocol === "http:" ? url.hostname : undefined;
  } catch {
    return undefined;
  }
}

function parseOverrides(
  value: Record<string, unknown>,
  knownNames: readonly string[],
  hostNames: readonly string[],
  p: Problems,
): Record<string, NodeOverride> {
  const out: Record<string, NodeOverride> = {};
  for (const [name, entry] of Object.entries(value)) {
    const base = `nodes.${name}`;
    if (!knownNames.includes(name)) {
      p.add(base, `unknown node (known: ${knownNames.join(", ")})`, name);
      continue;
    }
    if (!isRecord(entry)) {
      p.add(base, "must be an object", entry);
      continue;
    }
    const override: NodeOverride = {};
    for (const [field, fieldValue] of Object.entries(entry)) {
      const key = `${base}.${field}`;
      switch (field) {
        case "ip":
          if (typeof fieldValue === "string" && isIpv4(fieldValue)) override.ip = fieldValue;
          else p.add(key, "must be an IPv4 address", fieldValue);
          break;
        case "proxmoxNode":
          if (typeof fieldValue === "string" && hostNames.includes(fieldValue)) {
            override.proxmoxNode = fieldValue;
          } else {
            p.add(
              key,
              `must name a host of proxmoxHosts (known: ${hostNames.join(", ")})`,
              fieldValue,
            );
          }
          break;
        case "vmid":
        case "cores":
        case "memoryMb":
        case "diskGb": {
          const n = toInteger(fieldValue);
          if (n === undefined) p.add(key, "must be an integer", fieldValue);
          else override[field] = n;
          break;
        }
        default:
          p.add(key, `unknown field (known: ${OVERRIDE_FIELDS.join(", ")})`, field);
      }
    }
    out[name] = override;
  }
  return out;
}

function parseArtifacts(
  value: Record<string, unknown>,
  p: Problems,
): Partial<Record<ArtifactName, ArtifactSource>> {
  const out: Partial<Record<ArtifactName, ArtifactSource>> = {};
  for (const [name, entry] of Object.entries(value)) {
    const key = `artifacts.${name}`;
    if (!(ARTIFACT_NAMES as readonly string[]).includes(name)) {
      p.add(key, `unknown artifact (known: ${ARTIFACT_NAMES.join(", ")})`, name);
      continue;
    }
    if (!isRecord(entry)) {
      p.add(key, "must be { url, sha256 | sha512 } or { localPath }", entry);
      continue;
    }
    const { url, sha256, sha512, localPath, ...rest } = entry;
    for (const field of Object.keys(rest)) {
      p.add(`${key}.${field}`, "unknown field (known: url, sha256, sha512, localPath)", field);
    }
    if (url !== undefined && localPath !== undefined) {
      p.add(key, "set either url or localPath, not both", entry);
    } else if (typeof localPath === "string" && localPath !== "") {
      out[name as ArtifactName] = { kind: "local", localPath };
    } else if (typeof url === "string" && /^https?:\/\/\S+$/.test(url)) {
      if (sha256 === undefined && sha512 === undefined) {
        p.add(key, "a url needs sha256 or sha512", entry);
        continue;
      }
      if (sha256 !== undefined && !(typeof sha256 === "string" && SHA256.test(sha256))) {
        p.add(`${key}.sha256`, "must be 64 lowercase hex digits", sha256);
        continue;
      }
      if (sha512 !== undefined && !(typeof sha512 === "string" && SHA512.test(sha512))) {
        p.add(`${key}.sha512`, "must be 128 lowercase hex digits", sha512);
        continue;
      }
      out[name as ArtifactName] = {
        kind: "url",
        url,
        ...(sha256 !== undefined ? { sha256: sha256 as string } : {}),
        ...(sha512 !== undefined ? { sha512: sha512 as string } : {}),
      };
    } else if (url !== undefined) {
      p.add(`${key}.url`, "must be an http(s) URL", url);
    } else {
      p.add(key, "must be { url, sha256 | sha512 } or { localPath }", entry);
    }
  }
  return out;
}

function checkPlan(cfg: StackConfig, p: Problems): void {
  const cidr = parseCidr(cfg.network.cidr);
  if (!cidr) return;
  const shapes = nodeShapes(cfg);
  const lastHost = cfg.network.firstHost + shapes.length - 1;
  if (lastHost > hostCount(cidr)) {
    p.add(
      "networkFirstHost",
      `${shapes.length} nodes from this host number do not fit in ${cfg.network.cidr}`,
      cfg.network.firstHost,
    );
    return;
  }
  const plans = planNodes(cfg);
  const vmidOwner = new Map<number, string>();
  const ipOwner = new Map<string, string>();
  for (const plan of plans) {
    const key = (field: string) =>
      cfg.nodes[plan.name] && field in cfg.nodes[plan.name]
        ? `nodes.${plan.name}.${field}`
        : `${plan.name}.${field} (derived)`;
    const vmidUser = vmidOwner.get(plan.vmid);
    if (vmidUser) p.add(key("vmid"), `duplicate VMID, also used by ${vmidUser}`, plan.vmid);
    else vmidOwner.set(plan.vmid, plan.name);
    if (plan.vmid < LIMITS.vmid.min || plan.vmid > LIMITS.vmid.max) {
      p.add(key("vmid"), `must be between ${LIMITS.vmid.min} and ${LIMITS.vmid.max}`, plan.vmid);
    }
    const ipUser = ipOwner.get(plan.ip);
    if (ipUser) p.add(key("ip"), `duplicate IP, also used by ${ipUser}`, plan.ip);
    else ipOwner.set(plan.ip, plan.name);
    if (!inCidr(plan.ip, cidr)) p.add(key("ip"), `outside ${cfg.network.cidr}`, plan.ip);
    if (plan.ip === cfg.network.gateway) p.add(key("ip"), "equals the gateway", plan.ip);
    for (const field of ["cores", "memoryMb", "diskGb"] as const) {
      const { min, max } = LIMITS[field];
      if (plan[field] < min || plan[field] > max) {
        p.add(key(field), `must be between ${min} and ${max}`, plan[field]);
      }
    }
  }
  const hostNames = cfg.hosts.map((h) => h.name);
  for (const problem of placementProblems(plans, hostNames, cfg.placement.allowUnsafe)) {
    p.addText(problem);
  }
  if (cfg.pg.failover.mode === "auto") {
    for (const problem of etcdPlacementProblems(plans, hostNames, cfg.placement.allowUnsafe)) {
      p.addText(problem);
    }
  }
  cfg.lb.virtualIp = resolveVirtualIp(cfg.lb.virtualIp, cidr, cfg.network, plans, cfg.nodes, p);
  checkBackupRepoNode(
    cfg.backup,
    plans,
    { hosts: cfg.hosts.length, allowUnsafe: cfg.placement.allowUnsafe },
    p,
  );
}

/** lbReplicas as its type; a value out of range is a problem of readInt already. */
function readLbReplicas(raw: RawConfig, p: Problems): LbReplicas {
  return readInt(raw, "lbReplicas", 1, 2, p) === 1 ? 1 : 2;
}

/** lbProbe*: the LBs' active check of the app nodes; intervalMs 0 turns it off. */
function readLbProbe(raw: RawConfig, p: Problems): LbProbeSettings {
  const intervalMs = readInt(raw, "lbProbeIntervalMs", 0, LB_PROBE_MS.max, p);
  if (intervalMs > 0 && intervalMs < LB_PROBE_MS.min) {
    p.add("lbProbeIntervalMs", `must be 0 (off) or at least ${LB_PROBE_MS.min}`, intervalMs);
  }
  return {
    intervalMs,
    timeoutMs: readInt(raw, "lbProbeTimeoutMs", LB_PROBE_MS.min, LB_PROBE_MS.max, p),
    failures: readInt(raw, "lbProbeFailures", 1, 20, p),
  };
}

/** pgFailover, pgSynchronous, patroni*, haproxyCheck*: ranges, then Patroni's cross-key rule. */
function readPgFailover(raw: RawConfig, p: Problems): PgFailoverSettings {
  const { ttlSeconds: ttl, loopWaitSeconds: loop, retryTimeoutSeconds: retry } = PATRONI_LIMITS;
  const { intervalMs, fall, rise } = HAPROXY_CHECK_LIMITS;
  const patroni = {
    ttlSeconds: readInt(raw, "patroniTtlSeconds", ttl.min, ttl.max, p),
    loopWaitSeconds: readInt(raw, "patroniLoopWaitSeconds", loop.min, loop.max, p),
    retryTimeoutSeconds: readInt(raw, "patroniRetryTimeoutSeconds", retry.min, retry.max, p),
  };
  const rule = patroniTimingRuleProblem(patroni);
  if (rule !== undefined) {
    p.addText(`patroniTtlSeconds, patroniLoopWaitSeconds, patroniRetryTimeoutSeconds: ${rule}`);
  }
  return {
    mode: readChoice<PgFailoverMode>(raw, "pgFailover", PG_FAILOVER_MODES, p),
    synchronous: readBool(raw, "pgSynchronous", p),
    patroni,
    haproxyCheck: {
      intervalMs: readInt(raw, "haproxyCheckIntervalMs", intervalMs.min, intervalMs.max, p),
      fall: readInt(raw, "haproxyCheckFall", fall.min, fall.max, p),
      rise: readInt(raw, "haproxyCheckRise", rise.min, rise.max, p),
    },
  };
}

function readAdvertIntervalMs(raw: RawConfig, p: Problems): number {
  const { min, max, step } = VRRP_ADVERT_INTERVAL_MS;
  const ms = readInt(raw, "lbVrrpAdvertIntervalMs", min, max, p);
  if (ms % step !== 0) {
    p.add(
      "lbVrrpAdvertIntervalMs",
      `must be a multiple of ${step} (VRRPv3 counts centiseconds)`,
      ms,
    );
  }
  return ms;
}

function checkKafka(cfg: StackConfig, p: Problems): void {
  const k = cfg.kafka;
  if (k.controllerVoters < 3) {
    p.add(
      "kafkaControllerVoters",
      "needs at least 3 voters to survive losing one",
      k.controllerVoters,
    );
  } else if (k.controllerVoters % 2 === 0) {
    p.add(
      "kafkaControllerVoters",
      "must be odd (an even voter count adds no fault tolerance)",
      k.controllerVoters,
    );
  }
  if (k.replicationFactor > k.brokers) {
    p.add("kafkaReplicationFactor", `exceeds kafkaBrokers (${k.brokers})`, k.replicationFactor);
  }
  if (k.minInsyncReplicas > k.replicationFactor) {
    p.add(
      "kafkaMinInsyncReplicas",
      `exceeds kafkaReplicationFactor (${k.replicationFactor})`,
      k.minInsyncReplicas,
    );
  }
  if (cfg.app.kafkaHeartbeatIntervalMs * 3 > cfg.app.kafkaSessionTimeoutMs) {
    p.add(
      "appKafkaHeartbeatIntervalMs",
      `must be at most a third of appKafkaSessionTimeoutMs (${cfg.app.kafkaSessionTimeoutMs})`,
      cfg.app.kafkaHeartbeatIntervalMs,
    );
  }
  if (k.brokerHeartbeatIntervalMs >= k.brokerSessionTimeoutMs) {
    p.add(
      "kafkaBrokerHeartbeatIntervalMs",
      `must be below kafkaBrokerSessionTimeoutMs (${k.brokerSessionTimeoutMs})`,
      k.brokerHeartbeatIntervalMs,
    );
  }
  if (cfg.app.kafkaSessionTimeoutMs < k.groupMinSessionTimeoutMs) {
    p.add(
      "appKafkaSessionTimeoutMs",
      `is below kafkaGroupMinSessionTimeoutMs (${k.groupMinSessionTimeoutMs})`,
      cfg.app.kafkaSessionTimeoutMs,
    );
  }
}

/** Parses and checks every setting; `config` is set only when there is no problem. */
export function parseConfig(raw: RawConfig): { config?: StackConfig; errors: string[] } {
  const p = new Problems();
  const known = new Set<string>([
    ...Object.keys(SCALAR_SETTINGS),
    ...Object.keys(OBJECT_SETTINGS),
    ...PROVIDER_KEYS,
  ]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) p.add(key, "unknown setting", raw[key]);
  }

  const endpoint = typeof raw["proxmoxve:endpoint"] === "string" ? raw["proxmoxve:endpoint"] : "";
  const host = endpointHost(endpoint);
  if (host === undefined)
    p.add(
      "proxmoxve:endpoint",
      "must be the https URL of the Proxmox API",
      raw["proxmoxve:endpoint"],
    );
  requireSecret(raw, "proxmoxve:apiToken", p);
  const sshKey = requireSecret(raw, "proxmoxSshPrivateKey", p);
  let sshHost = readString(raw, "proxmoxSshHost", p);
  if (sshHost === "") sshHost = host ?? "";
  else if (!HOSTNAME.test(sshHost))
    p.add("proxmoxSshHost", "must be a host name or address", sshHost);

  const cidrText = readString(raw, "networkCidr", p);
  const cidr = parseCidr(cidrText);
  if (!cidr)
    p.add("networkCidr", "must be an IPv4 CIDR a.b.c.d/8..30 with zero host bits", cidrText);
  const gateway = readString(raw, "networkGateway", p);
  if (!isIpv4(gateway)) p.add("networkGateway", "must be an IPv4 address", gateway);
  else if (cidr && !inCidr(gateway, cidr))
    p.add("networkGateway", `outside networkCidr ${cidrText}`, gateway);
  const dnsText = readString(raw, "dnsServers", p);
  const dnsServers = dnsText === "" ? [gateway] : dnsText.split(",").map((s) => s.trim());
  for (const server of dnsServers) {
    if (dnsText !== "" && !isIpv4(server))
      p.add("dnsServers", "must be comma-separated IPv4 addresses", dnsText);
  }

  const templateSha512 = readString(raw, "templateSha512", p);
  if (templateSha512 !== "" && !SHA512.test(templateSha512)) {
    p.add("templateSha512", "must be empty or 128 lowercase hex digits", templateSha512);
  }
  const templateFileId = readString(raw, "templateFileId", p);
  if (templateFileId !== "" && !/^[A-Za-z0-9_-]+:vztmpl\/\S+$/.test(templateFileId)) {
    p.add("templateFileId", "must look like <datastore>:vztmpl/<file>", templateFileId);
  }

  const cfg: StackConfig = {
    hosts: [],
    placement: {
      allowUnsafe: readBool(raw, "allowUnsafePlacement", p),
      proxmoxHa: readBool(raw, "proxmoxHaEnabled", p),
    },
    proxmox: {
      node: readMatching(raw, "proxmoxNode", HOSTNAME, "a Proxmox node name", p),
      endpoint,
      sshHost,
      sshPort: readInt(raw, "proxmoxSshPort", 1, 65535, p),
      sshUser: readMatching(raw, "proxmoxSshUser", USER_NAME, "a user name", p),
      sshPrivateKey: sshKey,
      datastoreId: readMatching(raw, "datastoreId", /^[A-Za-z0-9_-]+$/, "a storage id", p),
      templateDatastoreId: readMatching(
        raw,
        "templateDatastoreId",
        /^[A-Za-z0-9_-]+$/,
        "a storage id",
        p,
      ),
      bridge: readMatching(raw, "bridge", /^[A-Za-z0-9_.-]{1,15}$/, "a bridge name", p),
      hostStagingDir: readMatching(
        raw,
        "hostStagingDir",
        /^\/[A-Za-z0-9_./-]+$/,
        "an absolute path",
        p,
      ),
      containerTimeoutSeconds: readInt(raw, "containerTimeoutSeconds", 60, 86400, p),
      protectData: readBool(raw, "protectData", p),
      containerSshPublicKeys: parseSshPublicKeys(
        readString(raw, "containerSshPublicKeys", p),
        "containerSshPublicKeys",
        p,
      ),
      firewall: readBool(raw, "proxmoxFirewall", p),
      vzdump: {
        schedule: readMatching(
          raw,
          "proxmoxBackupSchedule",
          CALENDAR_EVENT_OR_EMPTY,
          "empty or a Proxmox calendar event like daily or 02:30",
          p,
        ),
        storage: readMatching(raw, "proxmoxBackupStorage", /^[A-Za-z0-9_-]+$/, "a storage id", p),
        keepLast: readInt(raw, "proxmoxBackupKeepLast", 1, 1000, p),
      },
    },
    template: {
      fileId: templateFileId,
      url: readMatching(raw, "templateUrl", /^https?:\/\/\S+$/, "an http(s) URL", p),
      sha512: templateSha512,
    },
    network: {
      cidr: cidrText,
      gateway,
      firstHost: readInt(raw, "networkFirstHost", 1, 16777214, p),
      dnsServers,
      searchDomain: readMatching(raw, "searchDomain", /^([A-Za-z0-9.-]*)$/, "a domain name", p),
    },
    vmidBase: readInt(raw, "vmidBase", LIMITS.vmid.min, LIMITS.vmid.max, p),
    nodes: {},
    lb: {
      algorithm: readChoice<LbAlgorithm>(raw, "lbAlgorithm", LB_ALGORITHMS, p),
      maxFails: readInt(raw, "lbMaxFails", 0, 100, p),
      failTimeoutSeconds: readInt(raw, "lbFailTimeoutSeconds", 1, 3600, p),
      connectTimeoutMs: readInt(raw, "lbConnectTimeoutMs", 50, 60000, p),
      probe: readLbProbe(raw, p),
      replicas: readLbReplicas(raw, p),
      // Resolved (given and checked, or derived) with the node plan in checkPlan.
      virtualIp: readString(raw, "lbVirtualIp", p),
      vrrpRouterId: readInt(raw, "lbVrrpRouterId", 1, 255, p),
      vrrpAdvertIntervalMs: readAdvertIntervalMs(raw, p),
    },
    frontDoor: {
      tls: resolveTlsMode(
        readChoice<LbTlsSetting>(raw, "lbTls", LB_TLS_SETTINGS, p),
        typeof raw.lbTlsCertificate === "string" ? raw.lbTlsCertificate : "",
      ),
      tlsCertificate: readOptionalSecret(raw, "lbTlsCertificate", p),
      tlsPrivateKey: readOptionalSecret(raw, "lbTlsPrivateKey", p),
      redirectHttp: readBool(raw, "lbRedirectHttp", p),
      adminAuth: readBool(raw, "lbAdminAuth", p),
      adminUser: readMatching(
        raw,
        "lbAdminUser",
        ADMIN_USER,
        "1-64 letters, digits, '.', '_' or '-'",
        p,
      ),
      adminPassword: readOptionalSecret(raw, "lbAdminPassword", p),
      postRatePerSecond: readInt(raw, "lbPostRatePerSecond", 0, 100000, p),
      postBurst: readInt(raw, "lbPostBurst", 0, 100000, p),
      maxBodyBytes: readInt(raw, "lbMaxBodyBytes", 0, 1024 * 1024 * 1024, p),
    },
    firewall: {
      enabled: readBool(raw, "containerFirewall", p),
      operatorCidr: parseOperatorCidr(readString(raw, "operatorCidr", p), cidrText, p),
    },
    app: {
      replicas: readInt(raw, "appReplicas", 1, 16, p),
      port: readInt(raw, "appPort", 1024, 65535, p),
      logLevel: readChoice<AppLogLevel>(raw, "appLogLevel", APP_LOG_LEVELS, p),
      pgPoolMax: readInt(raw, "appPgPoolMax", 1, 100, p),
      kafkaSessionTimeoutMs: readInt(raw, "appKafkaSessionTimeoutMs", 1000, 300000, p),
      kafkaHeartbeatIntervalMs: readInt(raw, "appKafkaHeartbeatIntervalMs", 100, 60000, p),
      kafkaPublishDeadlineMs: readInt(raw, "appKafkaPublishDeadlineMs", 1000, 120000, p),
      kafkaConnectTimeoutMs: readInt(raw, "appKafkaConnectTimeoutMs", 100, 30000, p),
      kafkaRequestTimeoutMs: readInt(raw, "appKafkaRequestTimeoutMs", 500, 60000, p),
    },
    pg: {
      database: readMatching(raw, "pgDatabase", NAME, "a lowercase SQL identifier", p),
      appUser: readMatching(raw, "pgAppUser", NAME, "a lowercase SQL identifier", p),
      replicationUser: readMatching(
        raw,
        "pgReplicationUser",
        NAME,
        "a lowercase SQL identifier",
        p,
      ),
      replicationSlot: readMatching(
        raw,
        "pgReplicationSlot",
        NAME,
        "a lowercase SQL identifier",
        p,
      ),
      maxSlotWalKeepSize: readMatching(raw, "pgMaxSlotWalKeepSize", PG_SIZE, "a size like 1GB", p),
      sharedBuffersMb: readInt(raw, "pgSharedBuffersMb", 16, 65536, p),
      parameters: parsePgParameters(readObject(raw, "pgParameters", p), p),
      failover: readPgFailover(raw, p),
    },
    backup: {
      enabled: readBool(raw, "pgBackupEnabled", p),
      repoNode: readMatching(raw, "pgBackupRepoNode", HOSTNAME, "a node name", p),
      repoPath: readMatching(
        raw,
        "pgBackupRepoPath",
        /^\/[A-Za-z0-9_./-]+$/,
        "an absolute path",
        p,
      ),
      fullSchedule: readMatching(
        raw,
        "pgBackupFullSchedule",
        SYSTEMD_CALENDAR,
        "a systemd calendar event",
        p,
      ),
      incrSchedule: readMatching(
        raw,
        "pgBackupIncrSchedule",
        SYSTEMD_CALENDAR,
        "a systemd calendar event",
        p,
      ),
      retentionFull: readInt(raw, "pgBackupRetentionFull", 1, 100, p),
      maxAgeHours: readInt(raw, "pgBackupMaxAgeHours", 1, 24 * 400, p),
      archiveTimeoutSeconds: readInt(raw, "pgArchiveTimeoutSeconds", 10, 3600, p),
    },
    kafka: {
      brokers: readInt(raw, "kafkaBrokers", 1, 9, p),
      controllerVoters: readInt(raw, "kafkaControllerVoters", 1, 9, p),
      topic: readMatching(raw, "kafkaTopic", TOPIC, "a Kafka topic name", p),
      partitions: readInt(raw, "kafkaPartitions", 1, 1000, p),
      replicationFactor: readInt(raw, "kafkaReplicationFactor", 1, 9, p),
      minInsyncReplicas: readInt(raw, "kafkaMinInsyncReplicas", 1, 9, p),
      heapMb: readInt(raw, "kafkaHeapMb", 128, 65536, p),
      groupMinSessionTimeoutMs: readInt(raw, "kafkaGroupMinSessionTimeoutMs", 1000, 300000, p),
      brokerSessionTimeoutMs: readInt(raw, "kafkaBrokerSessionTimeoutMs", 500, 300000, p),
      brokerHeartbeatIntervalMs: readInt(raw, "kafkaBrokerHeartbeatIntervalMs", 100, 60000, p),
      replicaLagTimeMaxMs: readInt(raw, "kafkaReplicaLagTimeMaxMs", 1000, 300000, p),
      offsetsTopicPartitions: readInt(raw, "kafkaOffsetsTopicPartitions", 1, 1000, p),
      controllerQuorumFetchTimeoutMs: readInt(raw, "kafkaQuorumFetchTimeoutMs", 600, 60000, p),
      controllerQuorumElectionTimeoutMs: readInt(
        raw,
        "kafkaQuorumElectionTimeoutMs",
        100,
        60000,
        p,
      ),
    },
    observability: {
      grafanaEnabled: readBool(raw, "grafanaEnabled", p),
      kafkaExporterEnabled: readBool(raw, "kafkaExporterEnabled", p),
      prometheusRetention: readMatching(
        raw,
        "prometheusRetention",
        DURATION,
        "a duration like 15d",
        p,
      ),
      scrapeIntervalSeconds: readInt(raw, "scrapeIntervalSeconds", 1, 300, p),
    },
    artifacts: parseArtifacts(readObject(raw, "artifacts", p), p),
    aptSources: readString(raw, "aptSources", p),
  };
  const reservedRoles = ["postgres", "prometheus", cfg.pg.replicationUser];
  if (reservedRoles.includes(cfg.pg.appUser)) {
    p.add("pgAppUser", `must differ from ${reservedRoles.join(", ")}`, cfg.pg.appUser);
  }
  if (["postgres", "prometheus"].includes(cfg.pg.replicationUser)) {
    p.add("pgReplicationUser", "must differ from postgres, prometheus", cfg.pg.replicationUser);
  }
  // The redirect is on by default; with lbTls off and lbRedirectHttp left unset there is nothing to
  // redirect to, so it is off (set explicitly, checkFrontDoor refuses the pair).
  if (cfg.frontDoor.tls === "off" && raw.lbRedirectHttp === undefined) {
    cfg.frontDoor.redirectHttp = false;
  }
  checkFrontDoor(cfg.frontDoor, p);
  // Cross-checks only make sense when each number parsed.
  if (!p.list.some((e) => /^(kafka|app)\w*: must be an integer/.test(e))) checkKafka(cfg, p);
  const names = nodeShapes(cfg).map((s) => s.name);
  cfg.hosts = parseHosts(
    readObject(raw, "proxmoxHosts", p),
    {
      name: cfg.proxmox.node,
      sshHost: cfg.proxmox.sshHost,
      sshPort: cfg.proxmox.sshPort,
      sshUser: cfg.proxmox.sshUser,
      sshPrivateKey: cfg.proxmox.sshPrivateKey,
    },
    p,
  );
  cfg.nodes = parseOverrides(
    readObject(raw, "nodes", p),
    names,
    cfg.hosts.map((h) => h.name),
    p,
  );
  if (cidr && p.list.every((e) => !e.startsWith("networkGateway"))) checkPlan(cfg, p);
  return p.list.length === 0 ? { config: cfg, errors: [] } : { errors: p.list };
}

/** Every problem of the raw settings, each naming the key and the bad value; [] when valid. */
export function validateConfig(raw: RawConfig): string[] {
  return parseConfig(raw).errors;
}

export function formatConfigErrors(errors: readonly string[]): string {
  return `invalid stack configuration:\n${errors.map((e) => `  - ${e}`).join("\n")}`;
}

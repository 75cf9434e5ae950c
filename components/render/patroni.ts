/**
 * Patroni 3.0.2 (Debian 12's `patroni` package) on a PostgreSQL node (pgFailover auto): the
 * YAML of one node and the drop-in of its unit (written by patroni-configure, patroniPair.ts).
 *
 * Debian's package ships two units: `patroni.service` (one instance, /etc/patroni/config.yml,
 * enabled on install, Restart=on-failure) and the template `patroni@.service` (one per cluster,
 * `patroni@15-main` reads /etc/patroni/15-main.yml, Restart=no). The stack uses the template,
 * named like Debian's postgresql@15-main, with the stack's restart policy as a drop-in: a crashed
 * Patroni comes back after 1 s (KillMode=process leaves PostgreSQL running meanwhile) and finds
 * its lock still held. Both units run as postgres; /etc/patroni/config.yml is never written, so
 * patroni.service stays idle (ConditionPathExists).
 *
 * The PostgreSQL parameters are the lines renderPostgresConf writes today (one source), put in
 * the dynamic configuration: cluster-wide, as Patroni wants max_connections & co. Left to Patroni:
 * listen_addresses and port (postgresql.listen), synchronous_standby_names (synchronous_mode).
 * pg_hba is renderPgHba's plus the rewind role; the rendered text holds the four passwords
 * (superuser, replication, rewind, REST API) and is a secret.
 *
 * The dynamic configuration (timings, synchronous_mode, pg_rewind, slots, parameters) is one
 * object, patroniDynamicConfig: the node's bootstrap.dcs (read once, when the cluster is made) and
 * renderPatroniDynamicConfig's text, which patroni-configure applies to the running cluster on
 * every run (patronictl edit-config, only when it differs), so a later change takes effect.
 *
 * The REST API asks for HTTP Basic credentials on its unsafe endpoints (POST, PUT, PATCH,
 * DELETE: restart, switchover, /config, ...); GET /primary, /replica, /health, /metrics stay open
 * for HAProxy and Prometheus. patronictl reads the same file (-c), so it sends them too.
 */
import { PATRONI_BIN } from "./patroniRelease";
import { stringify } from "yaml";
import { PORTS } from "../config/ports";
import {
  PATRONI_LIMITS,
  patroniTimingRuleProblem,
  type PatroniTimings,
} from "../config/pgFailover";
import {
  PG_CONF_DIR,
  PG_DATA_DIR,
  PG_MAJOR,
  renderPgHba,
  renderPostgresConf,
  type PgHbaOptions,
  type PostgresConfOptions,
} from "./postgres";
import { renderRestartDropIn } from "./restartPolicy";

export const PATRONI_UNIT = `patroni@${PG_MAJOR}-main.service`;
export const PATRONI_CONFIG_PATH = `/etc/patroni/${PG_MAJOR}-main.yml`;
export const PATRONI_DROP_IN_PATH = `/etc/systemd/system/${PATRONI_UNIT}.d/restart.conf`;
export const PG_BIN_DIR = `/usr/lib/postgresql/${PG_MAJOR}/bin`;
export const PATRONI_PGPASS_PATH = `/var/lib/postgresql/${PG_MAJOR}-main.pgpass`;
export const PATRONI_NAMESPACE = "/service/";
export const PATRONI_REWIND_USER = "rewind";
/** The REST API's user (restapi.authentication): patronictl and an operator's curl. */
export const PATRONI_REST_USER = "patroni";
/** What the stack wants as the cluster's dynamic configuration, beside the node's YAML. */
export const PATRONI_DYNAMIC_PATH = `/etc/patroni/${PG_MAJOR}-main.dynamic.yml`;
/** Patroni's own default: a replica more than 1 MiB behind takes no part in the race. */
export const MAXIMUM_LAG_ON_FAILOVER_BYTES = 1048576;
/**
 * postgresql.custom_conf, in config_dir. With config_dir apart from data_dir (Debian's layout)
 * Patroni 3.0.2 would rename config_dir/postgresql.conf to postgresql.base.conf, which initdb never
 * wrote there (FileNotFoundError, bootstrap fails); with custom_conf it includes this file instead.
 */
export const PATRONI_BASE_CONF_NAME = "postgresql.base.conf";

/** Set by Patroni itself, so left out of the parameters taken from renderPostgresConf. */
const PATRONI_OWNED = new Set(["listen_addresses", "port", "synchronous_standby_names"]);

export interface PatroniNode {
  name: string;
  ip: string;
}

export interface PatroniTags {
  nofailover?: boolean;
  noloadbalance?: boolean;
  clonefrom?: boolean;
  nosync?: boolean;
}

/** What the cluster-wide (dynamic) configuration is made of: the same on both nodes. */
export interface PatroniDynamicOptions {
  timings: PatroniTimings;
  /** synchronous_mode: a commit waits for the replica while one streams (strict stays off). */
  synchronous: boolean;
  /** The settings PostgreSQL has today (renderPostgresConf); port is the node's PostgreSQL port. */
  postgres: PostgresConfOptions;
}

export interface PatroniConfigOptions extends PatroniDynamicOptions {
  /** The cluster's name in etcd (same on both nodes). */
  scope: string;
  self: PatroniNode;
  /** The etcd members' client endpoints, ip:port. */
  etcdHosts: string[];
  /** Who may connect (renderPgHba); replicationUser is Patroni's replication role too. */
  hba: PgHbaOptions;
  /** Secrets; restApi is PATRONI_REST_USER's password for the REST API's unsafe endpoints. */
  passwords: { superuser: string; replication: string; rewind: string; restApi: string };
  tags?: PatroniTags;
  /** Overrides for the real-tool check outside a container. */
  restApiPort?: number;
  dataDir?: string;
  configDir?: string;
  binDir?: string;
  pgpassPath?: string;
  socketDir?: string;
}

function fail(message: string): never {
  throw new Error(`patroni: ${message}`);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const PATH = /^\/[A-Za-z0-9_./-]+$/;

function checkHostPort(what: string, value: string): void {
  const m = /^(.+):(\d{1,5})$/.exec(value);
  if (!m || !IPV4.test(m[1]) || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    fail(`${what} must be ipv4:port (got "${value}")`);
  }
}

function checkTimings(t: PatroniTimings): void {
  for (const key of ["ttlSeconds", "loopWaitSeconds", "retryTimeoutSeconds"] as const) {
    const { min, max } = PATRONI_LIMITS[key];
    if (!Number.isInteger(t[key]) || t[key] < min || t[key] > max) {
      fail(`${key} must be an integer from ${min} to ${max} (got ${t[key]})`);
    }
  }
  const rule = patroniTimingRuleProblem(t);
  if (rule !== undefined) fail(rule);
}

function checkOptions(o: PatroniConfigOptions): void {
  if (!NAME.test(o.scope)) fail(`scope is invalid (got "${o.scope}")`);
  if (!NAME.test(o.self.name)) fail(`node name is invalid (got "${o.self.name}")`);
  if (!IPV4.test(o.self.ip)) fail(`node ${o.self.name} address is invalid (got "${o.self.ip}")`);
  if (o.etcdHosts.length < 3 || o.etcdHosts.length % 2 === 0) {
    fail(`etcdHosts must be an odd number of members, at least 3 (got ${o.etcdHosts.length})`);
  }
  for (const h of o.etcdHosts) checkHostPort("etcd host", h);
  if (new Set(o.etcdHosts).size !== o.etcdHosts.length) {
    fail(`etcdHosts must differ (got ${o.etcdHosts.join(", ")})`);
  }
  checkTimings(o.timings);
  for (const [who, password] of Object.entries(o.passwords)) {
    // The value itself is a secret and never shown.
    if (password.length === 0) fail(`the ${who} password must not be empty`);
  }
  const users = ["postgres", o.hba.replicationUser, PATRONI_REWIND_USER, o.hba.appUser];
  if (new Set(users).size !== users.length) {
    fail(`the roles must differ (got ${users.join(", ")})`);
  }
  const port = o.restApiPort ?? PORTS.patroniRestApi;
  if (!Number.isInteger(port) || port < 1 || port > 65535 || port === o.postgres.port) {
    fail(`restApiPort must be a free port number (got ${port})`);
  }
  for (const p of [o.dataDir, o.configDir, o.binDir, o.pgpassPath, o.socketDir]) {
    if (p !== undefined && !PATH.test(p)) fail(`path must be absolute (got "${p}")`);
  }
}

/** A postgresql.conf value as written by renderPostgresConf: quotes removed, escapes undone. */
function confValue(raw: string): string {
  const quoted = /^'(.*)'$/.exec(raw);
  if (!quoted) return raw;
  return quoted[1].replace(/''/g, "'").replace(/\\\\/g, "\\");
}

/** Parameters Patroni's validator (3.1) wants as YAML integers; the rest stay strings. */
const PATRONI_INTEGER_PARAMETERS: ReadonlySet<string> = new Set([
  "max_connections",
  "max_locks_per_transaction",
  "max_prepared_transactions",
  "max_replication_slots",
  "max_wal_senders",
  "max_worker_processes",
]);

/** The `name = value` lines of renderPostgresConf, minus what Patroni sets itself. */
export function patroniParameters(postgres: PostgresConfOptions): Record<string, string | number> {
  const parameters: Record<string, string | number> = {};
  for (const line of renderPostgresConf(postgres).split("\n")) {
    const set = /^([a-z_][a-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!set || PATRONI_OWNED.has(set[1])) continue;
    const value = confValue(set[2].trim());
    parameters[set[1]] =
      PATRONI_INTEGER_PARAMETERS.has(set[1]) && /^\d+$/.test(value) ? Number(value) : value;
  }
  return parameters;
}

/** renderPgHba's entries plus the rewind role from each PostgreSQL node (pg_rewind needs it). */
export function patroniPgHba(hba: PgHbaOptions): string[] {
  const entries = renderPgHba(hba)
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"));
  const rewind = hba.replicationClients.map(
    (ip) =>
      `host    postgres        ${PATRONI_REWIND_USER.padEnd(15)} ${`${ip}/32`.padEnd(23)} scram-sha-256`,
  );
  // A replica's Patroni reads its own timeline over a local replication connection (IDENTIFY_SYSTEM,
  // use_unix_socket_repl); without this entry /metrics says "None" and Prometheus drops the scrape.
  const localReplication = `local   replication     ${hba.replicationUser.padEnd(15)} ${"".padEnd(23)} scram-sha-256`;
  return [...entries, localReplication, ...rewind];
}

/**
 * The cluster's dynamic configuration (Patroni keeps it in etcd, /config): bootstrap.dcs of every
 * node and what patroni-configure applies later. One object, so the two never differ.
 */
export function patroniDynamicConfig(o: PatroniDynamicOptions) {
  checkTimings(o.timings);
  return {
    ttl: o.timings.ttlSeconds,
    loop_wait: o.timings.loopWaitSeconds,
    retry_timeout: o.timings.retryTimeoutSeconds,
    maximum_lag_on_failover: MAXIMUM_LAG_ON_FAILOVER_BYTES,
    check_timeline: true,
    synchronous_mode: o.synchronous,
    synchronous_mode_strict: false,
    postgresql: {
      use_pg_rewind: true,
      use_slots: true,
      parameters: patroniParameters(o.postgres),
    },
  };
}

/** PyYAML reads YAML 1.1 (an unquoted on/off is a boolean): every string is quoted. */
function patroniYaml(value: unknown): string {
  return stringify(value, {
    defaultStringType: "QUOTE_DOUBLE",
    defaultKeyType: "PLAIN",
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
}

/**
 * PATRONI_DYNAMIC_PATH: patroniDynamicConfig as YAML, for `patronictl edit-config --apply`. Holds
 * no password. The stack owns the keys it names and every postgresql.parameters entry (one that
 * is not here is removed from the cluster); other keys (pause, an operator's slots) are left.
 */
export function renderPatroniDynamicConfig(o: PatroniDynamicOptions): string {
  return `# Patroni's dynamic configuration as the stack wants it. Rendered by pve-ha-stack
# (render/patroni.ts); patroni-configure applies it with patronictl edit-config when it differs.
${patroniYaml(patroniDynamicConfig(o))}`;
}

/** /etc/patroni/15-main.yml of one node. Secret: it holds the passwords. */
export function renderPatroniConfig(o: PatroniConfigOptions): string {
  checkOptions(o);
  const restApi = `${o.self.ip}:${o.restApiPort ?? PORTS.patroniRestApi}`;
  const pgHba = patroniPgHba(o.hba);
  const config = {
    scope: o.scope,
    namespace: PATRONI_NAMESPACE,
    name: o.self.name,
    restapi: {
      listen: restApi,
      connect_address: restApi,
      // Unsafe endpoints only; patronictl -c this file sends the same credentials.
      authentication: { username: PATRONI_REST_USER, password: o.passwords.restApi },
    },
    etcd3: { hosts: o.etcdHosts },
    bootstrap: {
      dcs: patroniDynamicConfig(o),
      initdb: [{ encoding: "UTF8" }, { locale: "C.UTF-8" }, "data-checksums"],
      // Patroni 3.0.2's --validate-config requires it; postgresql.pg_hba below wins.
      pg_hba: pgHba,
    },
    postgresql: {
      listen: `*:${o.postgres.port}`,
      connect_address: `${o.self.ip}:${o.postgres.port}`,
      use_unix_socket: true,
      use_unix_socket_repl: true,
      data_dir: o.dataDir ?? PG_DATA_DIR,
      config_dir: o.configDir ?? PG_CONF_DIR,
      custom_conf: `${o.configDir ?? PG_CONF_DIR}/${PATRONI_BASE_CONF_NAME}`,
      bin_dir: o.binDir ?? PG_BIN_DIR,
      pgpass: o.pgpassPath ?? PATRONI_PGPASS_PATH,
      authentication: {
        superuser: { username: "postgres", password: o.passwords.superuser },
        replication: { username: o.hba.replicationUser, password: o.passwords.replication },
        rewind: { username: PATRONI_REWIND_USER, password: o.passwords.rewind },
      },
      parameters: { unix_socket_directories: o.socketDir ?? "/var/run/postgresql" },
      pg_hba: pgHba,
    },
    // Containers have no /dev/watchdog: see the header of this file.
    watchdog: { mode: "off" },
    tags: {
      nofailover: o.tags?.nofailover ?? false,
      noloadbalance: o.tags?.noloadbalance ?? false,
      clonefrom: o.tags?.clonefrom ?? false,
      nosync: o.tags?.nosync ?? false,
    },
  };
  const body = patroniYaml(config);
  return `# Patroni of ${o.self.name}, cluster ${o.scope}. Rendered by pve-ha-stack (render/patroni.ts).
# watchdog off: an LXC container has no /dev/watchdog. Without it a Patroni that hangs while its
# PostgreSQL keeps running cannot be fenced; HAProxy only sends writes to the node whose REST API
# answers /primary 200, which only the holder of the leader lock does.
${body}`;
}

/** PATRONI_BASE_CONF_NAME's text: every parameter is Patroni's (patroni.yml and the DCS). */
export function renderPatroniBaseConf(): string {
  return `# Rendered by pve-ha-stack: included by the postgresql.conf Patroni writes. The parameters live
# in /etc/patroni/${PG_MAJOR}-main.yml and Patroni's dynamic configuration; do not add any here.
`;
}

/**
 * createcluster.conf of a Patroni node, written before postgresql-15 is installed: no main cluster
 * from Debian, so Patroni bootstraps one (initdb with checksums) or clones the leader into 15/main.
 */
export function renderPatroniCreateClusterConf(): string {
  return `# Rendered by pve-ha-stack: Patroni creates 15/main (pgFailover auto), Debian does not.
create_main_cluster = false
`;
}

/**
 * The drop-in of PATRONI_UNIT: the stack's restart policy instead of Debian's Restart=no, and
 * Patroni from PyPI (render/patroniRelease.ts) instead of Debian's /usr/bin/patroni.
 */
export function renderPatroniDropIn(): string {
  return `${renderRestartDropIn()}
[Service]
ExecStart=
ExecStart=${PATRONI_BIN} /etc/patroni/%i.yml
`;
}

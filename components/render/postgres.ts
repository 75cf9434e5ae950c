/**
 * PostgreSQL 15 (Debian) configuration of the primary/standby pair: createcluster.conf, one
 * conf.d file for both nodes, pg_hba.conf, the primary's role/database/slot SQL and the HTTP
 * role-check agent HAProxy asks.
 */

export const PG_MAJOR = 15;
export const PG_CONF_DIR = `/etc/postgresql/${PG_MAJOR}/main`;
export const PG_DATA_DIR = `/var/lib/postgresql/${PG_MAJOR}/main`;
export const PG_CONF_D_FILE = `${PG_CONF_DIR}/conf.d/pve-ha.conf`;
export const PG_HBA_PATH = `${PG_CONF_DIR}/pg_hba.conf`;
export const CREATECLUSTER_CONF_PATH = "/etc/postgresql-common/createcluster.conf";
/** The PostgreSQL Unix socket directory (Debian's; Patroni's unix_socket_directories names it too). */
export const PG_SOCKET_DIR = "/run/postgresql";
export const ROLE_CHECK_SCRIPT_PATH = "/usr/local/lib/pve-ha/pg-role-check";

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

function fail(message: string): never {
  throw new Error(`postgres: ${message}`);
}

function requireIdent(what: string, value: string): void {
  if (!IDENT.test(value)) fail(`${what} must be a lowercase SQL identifier (got "${value}")`);
}

function requireIp(what: string, value: string): void {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(value))
    fail(`${what} must be an IPv4 address (got "${value}")`);
}

/** Written before postgresql-15 is installed, so the cluster Debian creates has checksums. */
export function renderCreateClusterConf(): string {
  return `# Rendered by pve-ha-stack: read by pg_createcluster when postgresql-${PG_MAJOR} is installed.
create_main_cluster = true
start_conf = 'auto'
initdb_options = '--data-checksums'
# Debian's own createcluster.conf has this line; without it conf.d/*.conf is never read.
add_include_dir = 'conf.d'
`;
}

/** The backup repository node: PostgreSQL binaries for restores, no cluster of its own. */
export function renderRepoCreateClusterConf(): string {
  return `# Rendered by pve-ha-stack: restores only; no main cluster on this node.
create_main_cluster = false
`;
}

export interface PostgresConfOptions {
  port: number;
  sharedBuffersMb: number;
  maxSlotWalKeepSize: string;
  maxConnections?: number;
  /**
   * pgParameters: extra parameters (name -> value), rendered last, each single-quoted; a stack
   * default they name (max_connections…) is left out. Names in PG_OWNED_PARAMETERS are refused.
   */
  parameters?: Readonly<Record<string, string>>;
  /** WAL archiving to the backup repository (archive_command, archive_timeout in seconds). */
  archive?: { command: string; timeoutSeconds: number };
}

function archiveLines(archive: PostgresConfOptions["archive"]): string {
  if (archive === undefined) return "archive_mode = off\n";
  if (archive.command.includes("'") || archive.command.includes("\n"))
    fail(`archive command must not contain quotes or newlines (got "${archive.command}")`);
  return `# WAL archive (backups): a standby archives nothing until it is promoted.
archive_mode = on
archive_command = '${archive.command}'
archive_timeout = ${archive.timeoutSeconds}s
`;
}

/**
 * Bounds of the rolling settings apply (pg-settings-apply): the server answering at all, a reload
 * taking effect, and a restarted node being healthy again (a replica streaming; the primary
 * accepting writes, then a replica streaming from it again).
 */
export const PG_SETTINGS_APPLY = {
  answerTimeoutSeconds: 60,
  reloadTimeoutSeconds: 30,
  restartTimeoutSeconds: 120,
} as const;

/** What a pgParameters name must look like (lowercase; a dot for an extension's parameters). */
export const PG_PARAMETER_NAME = /^[a-z_][a-z0-9_.]*$/;

/**
 * Parameters the stack sets itself and pgParameters may not (replication, data layout, access,
 * the WAL archive), with why or which setting to use instead. The stack's other lines in
 * renderPostgresConf (max_connections, hot_standby_feedback, synchronous_commit, wal_keep_size,
 * log_*) are defaults that pgParameters may replace.
 */
export const PG_OWNED_PARAMETERS: Readonly<Record<string, string>> = {
  listen_addresses: "the stack listens on every address (HAProxy, replication)",
  port: "the stack's PostgreSQL port is fixed (config/ports.ts)",
  unix_socket_directories: "the payloads and the role check use /run/postgresql",
  data_directory: "the data layout is Debian's",
  config_file: "the data layout is Debian's",
  hba_file: "pg_hba.conf is rendered by the stack",
  ident_file: "the data layout is Debian's",
  external_pid_file: "the data layout is Debian's",
  include: "a directive, not a parameter",
  include_dir: "a directive, not a parameter",
  include_if_exists: "a directive, not a parameter",
  password_encryption: "pg_hba.conf asks for scram-sha-256",
  shared_buffers: "use pgSharedBuffersMb",
  max_slot_wal_keep_size: "use pgMaxSlotWalKeepSize",
  wal_level: "streaming replication needs replica",
  wal_log_hints: "pg_rewind needs it",
  max_wal_senders: "replication",
  max_replication_slots: "replication",
  hot_standby: "replication",
  primary_conninfo: "replication (the standby setup writes it)",
  primary_slot_name: "replication (the standby setup writes it)",
  synchronous_standby_names: "replication is asynchronous",
  promote_trigger_file: "failover",
  recovery_target: "recovery",
  recovery_target_action: "recovery",
  recovery_target_inclusive: "recovery",
  recovery_target_lsn: "recovery",
  recovery_target_name: "recovery",
  recovery_target_time: "recovery",
  recovery_target_timeline: "recovery",
  recovery_target_xid: "recovery",
  restore_command: "the WAL archive (backups)",
  archive_cleanup_command: "the WAL archive (backups)",
  recovery_end_command: "the WAL archive (backups)",
  archive_mode: "the WAL archive (backups)",
  archive_command: "the WAL archive (backups)",
  archive_library: "the WAL archive (backups)",
  archive_timeout: "the WAL archive (backups): use pgArchiveTimeoutSeconds",
};

/** Why a pgParameters entry cannot be rendered, or undefined when it can. */
export function pgParameterProblem(name: string, value: string): string | undefined {
  if (!PG_PARAMETER_NAME.test(name)) {
    return `must be a PostgreSQL parameter name (${PG_PARAMETER_NAME.source})`;
  }
  const owned = PG_OWNED_PARAMETERS[name];
  if (owned !== undefined) return `is set by the stack, not by pgParameters: ${owned}`;
  if (/[\x00-\x1f\x7f]/.test(value)) return "must not contain a newline or control character";
  return undefined;
}

/** A postgresql.conf string literal: single quotes doubled, backslashes doubled (both are escapes). */
export function pgConfQuote(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/**
 * The stack's settings plus pgParameters: each parameter once, the stack's line of a default it
 * replaces left out, the parameters last under "# pgParameters" in name order.
 */
function withPgParameters(conf: string, parameters: Readonly<Record<string, string>>): string {
  const names = Object.keys(parameters).sort();
  if (names.length === 0) return conf;
  for (const name of names) {
    const problem = pgParameterProblem(name, parameters[name]);
    if (problem) fail(`pgParameters.${name} ${problem} (got "${parameters[name]}")`);
  }
  const kept = conf.split("\n").filter((line) => {
    const set = /^([a-z_][a-z0-9_.]*)\s*=/.exec(line);
    return !(set && names.includes(set[1]));
  });
  return `${kept.join("\n").trimEnd()}
# pgParameters (stack setting): reloaded where PostgreSQL allows it, else restarted replica first.
${names.map((name) => `${name} = ${pgConfQuote(parameters[name])}`).join("\n")}
`;
}

/** conf.d/pve-ha.conf: the same file on primary and standby (a standby may become primary). */
export function renderPostgresConf(opts: PostgresConfOptions): string {
  if (!/^\d+(kB|MB|GB|TB)$/.test(opts.maxSlotWalKeepSize)) {
    fail(`maxSlotWalKeepSize must be a size like 1GB (got "${opts.maxSlotWalKeepSize}")`);
  }
  if (!Number.isInteger(opts.sharedBuffersMb) || opts.sharedBuffersMb < 16) {
    fail(`sharedBuffersMb must be an integer >= 16 (got ${opts.sharedBuffersMb})`);
  }
  return withPgParameters(
    `# Rendered by pve-ha-stack: streaming replication (asynchronous, as in the paper).
listen_addresses = '*'
port = ${opts.port}
max_connections = ${opts.maxConnections ?? 200}
shared_buffers = ${opts.sharedBuffersMb}MB
password_encryption = 'scram-sha-256'
wal_level = replica
# pg_rewind needs hint bits in WAL to rejoin an old primary.
wal_log_hints = on
max_wal_senders = 10
max_replication_slots = 10
# A standby that stops consuming its slot cannot fill the primary's disk.
max_slot_wal_keep_size = ${opts.maxSlotWalKeepSize}
wal_keep_size = 256MB
hot_standby = on
hot_standby_feedback = on
synchronous_commit = on
synchronous_standby_names = ''
log_line_prefix = '%m [%p] %q%u@%d '
log_connections = off
log_replication_commands = on
${archiveLines(opts.archive)}`,
    opts.parameters ?? {},
  );
}

export interface PgHbaOptions {
  database: string;
  appUser: string;
  replicationUser: string;
  /** Addresses allowed to stream WAL (both PG nodes: either may be the standby). */
  replicationClients: string[];
  /** Addresses allowed to use the app database (app nodes and the HAProxy node). */
  appClients: string[];
}

export function renderPgHba(opts: PgHbaOptions): string {
  requireIdent("database", opts.database);
  requireIdent("appUser", opts.appUser);
  requireIdent("replicationUser", opts.replicationUser);
  for (const ip of [...opts.replicationClients, ...opts.appClients]) requireIp("client", ip);
  const lines = [
    "# Rendered by pve-ha-stack. TYPE DATABASE USER ADDRESS METHOD",
    "local   all             all                                     peer",
    "host    all             all             127.0.0.1/32            scram-sha-256",
    ...opts.replicationClients.map(
      (ip) =>
        `host    replication     ${opts.replicationUser.padEnd(15)} ${`${ip}/32`.padEnd(23)} scram-sha-256`,
    ),
    ...opts.appClients.map(
      (ip) =>
        `host    ${opts.database.padEnd(15)} ${opts.appUser.padEnd(15)} ${`${ip}/32`.padEnd(23)} scram-sha-256`,
    ),
    "",
  ];
  return lines.join("\n");
}

export interface PrimarySqlOptions {
  database: string;
  appUser: string;
  replicationUser: string;
  /** The standby's physical slot; absent with pgFailover auto (Patroni keeps its own slots). */
  slot?: string;
}

/**
 * Idempotent SQL for the primary, run with psql variables `superuser_password`,
 * `replication_password` and `app_password` (the passwords never appear in the SQL text).
 * CREATE DATABASE cannot run inside DO, hence \gexec. The app's role gets pg_read_all_stats:
 * before it commits a Kafka offset the app waits until a replica's flush_lsn in
 * pg_stat_replication has reached its commit, and that column is NULL for a role without it
 * (granting it again is a notice, not an error).
 */
export function renderPrimarySetupSql(opts: PrimarySqlOptions): string {
  requireIdent("database", opts.database);
  requireIdent("appUser", opts.appUser);
  requireIdent("replicationUser", opts.replicationUser);
  if (opts.slot !== undefined) requireIdent("slot", opts.slot);
  const { database, appUser, replicationUser, slot } = opts;
  const slotSql =
    slot === undefined
      ? ""
      : `SELECT pg_create_physical_replication_slot('${slot}')
  WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '${slot}');
`;
  return `SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN REPLICATION', '${replicationUser}')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${replicationUser}') \\gexec
SELECT format('CREATE ROLE %I LOGIN', '${appUser}')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${appUser}') \\gexec
ALTER ROLE postgres PASSWORD :'superuser_password';
ALTER ROLE ${replicationUser} WITH LOGIN REPLICATION PASSWORD :'replication_password';
ALTER ROLE ${appUser} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
GRANT pg_read_all_stats TO ${appUser};
SELECT format('CREATE DATABASE %I OWNER %I', '${database}', '${appUser}')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${database}') \\gexec
ALTER DATABASE ${database} OWNER TO ${appUser};
${slotSql}`;
}

/**
 * argv of psql as the postgres superuser over the local socket, with the socket directory and the
 * port named. Without -h, Debian's pg_wrapper reads the cluster's postgresql.conf to find them, and
 * Patroni rewrites that file in place (truncated first) whenever the synchronous standby changes:
 * a psql in that instant fails with "Invalid data directory for cluster 15 main".
 */
export function localPsqlArgv(port: number, database: string, psqlOptions: string[]): string[] {
  return [
    "runuser",
    "-u",
    "postgres",
    "--",
    "psql",
    "-h",
    PG_SOCKET_DIR,
    "-p",
    String(port),
    "-d",
    database,
    ...psqlOptions,
  ];
}

/** The variables lib.sh's psql_su needs (the local socket and port, as localPsqlArgv). */
export function localPsqlVars(port: number): { PG_SOCKET_DIR: string; PG_PORT: number } {
  return { PG_SOCKET_DIR, PG_PORT: port };
}

/**
 * The role-check agent: one HTTP/1.0 request per connection on stdin/stdout (systemd socket
 * activation). /primary is 200 iff the server is not in recovery, /replica iff it is, /health
 * iff it answers at all.
 */
export function renderRoleCheckScript(pgPort: number): string {
  return `#!/usr/bin/env bash
# PostgreSQL role check for HAProxy (rendered by pve-ha-stack).
set -Euo pipefail

request_line=""
read -r -t 5 request_line || true
# Drain the request headers (up to the empty line) so the client sees a clean close.
while IFS= read -r -t 1 header && [[ -n "\${header%$'\\r'}" ]]; do :; done

path=$(printf '%s' "$request_line" | awk '{ print $2 }')
path="\${path%%\\?*}"
recovery=$(timeout 3 psql -h ${PG_SOCKET_DIR} -p ${pgPort} -d postgres -XAtq \\
  -c 'SELECT pg_is_in_recovery()' 2>/dev/null) || recovery=""

case "$recovery" in
  f) role=primary ;;
  t) role=replica ;;
  *) role=down ;;
esac
case "$path:$role" in
  /primary:primary | /replica:replica | /health:primary | /health:replica) status="200 OK" ;;
  /primary:* | /replica:* | /health:*) status="503 Service Unavailable" ;;
  *) status="404 Not Found" ;;
esac
body="$role"
printf 'HTTP/1.0 %s\\r\\nContent-Type: text/plain\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s\\n' \\
  "$status" "$((\${#body} + 1))" "$body"
`;
}

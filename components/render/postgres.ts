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

export interface PostgresConfOptions {
  port: number;
  sharedBuffersMb: number;
  maxSlotWalKeepSize: string;
  maxConnections?: number;
}

/** conf.d/pve-ha.conf: the same file on primary and standby (a standby may become primary). */
export function renderPostgresConf(opts: PostgresConfOptions): string {
  if (!/^\d+(kB|MB|GB|TB)$/.test(opts.maxSlotWalKeepSize)) {
    fail(`maxSlotWalKeepSize must be a size like 1GB (got "${opts.maxSlotWalKeepSize}")`);
  }
  if (!Number.isInteger(opts.sharedBuffersMb) || opts.sharedBuffersMb < 16) {
    fail(`sharedBuffersMb must be an integer >= 16 (got ${opts.sharedBuffersMb})`);
  }
  return `# Rendered by pve-ha-stack: streaming replication (asynchronous, as in the paper).
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
`;
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
  slot: string;
}

/**
 * Idempotent SQL for the primary, run with psql variables `superuser_password`,
 * `replication_password` and `app_password` (the passwords never appear in the SQL text).
 * CREATE DATABASE cannot run inside DO, hence \gexec.
 */
export function renderPrimarySetupSql(opts: PrimarySqlOptions): string {
  requireIdent("database", opts.database);
  requireIdent("appUser", opts.appUser);
  requireIdent("replicationUser", opts.replicationUser);
  requireIdent("slot", opts.slot);
  const { database, appUser, replicationUser, slot } = opts;
  return `SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN REPLICATION', '${replicationUser}')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${replicationUser}') \\gexec
SELECT format('CREATE ROLE %I LOGIN', '${appUser}')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${appUser}') \\gexec
ALTER ROLE postgres PASSWORD :'superuser_password';
ALTER ROLE ${replicationUser} WITH LOGIN REPLICATION PASSWORD :'replication_password';
ALTER ROLE ${appUser} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
SELECT format('CREATE DATABASE %I OWNER %I', '${database}', '${appUser}')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${database}') \\gexec
ALTER DATABASE ${database} OWNER TO ${appUser};
SELECT pg_create_physical_replication_slot('${slot}')
  WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '${slot}');
`;
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
recovery=$(timeout 3 psql -h /run/postgresql -p ${pgPort} -d postgres -XAtq \\
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

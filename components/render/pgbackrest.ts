/**
 * pgBackRest 2.45 (Debian 12): a dedicated repository on one node of the stack, the PostgreSQL
 * nodes archive WAL to it and the repository node takes full and incremental backups from
 * whichever node is primary. Hosts talk over pgBackRest's own TLS server (mutual certificates from
 * the repository node's CA), so no SSH between containers.
 */
import { PGBACKREST_STANZA, SYSTEMD_CALENDAR } from "../config/backup";
import { shellQuote } from "./payload";
import { PG_DATA_DIR, PG_SOCKET_DIR } from "./postgres";

export { PGBACKREST_STANZA };
export const PGBACKREST_CONF_PATH = "/etc/pgbackrest/pgbackrest.conf";
export const PGBACKREST_TLS_DIR = "/etc/pgbackrest/tls";
/** The repository node's config for restores into a scratch data directory (no pg hosts). */
export const PGBACKREST_RESTORE_CONF_PATH = "/etc/pgbackrest/restore.conf";
export const PGBACKREST_SERVER_UNIT = "pgbackrest-server.service";
export const PGBACKREST_RUN_SCRIPT_PATH = "/usr/local/lib/pve-ha/pgbackrest-run";
/** The restore drill's scratch data directory on the repository node. */
export const RESTORE_SCRATCH_DIR = "/var/lib/pve-ha/restore-scratch";
export const BACKUP_TYPES = ["full", "incr"] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

/** The textfile node_exporter exports for one backup type (pve_ha_pg_backup_* series). */
export function backupTextfileName(type: BackupType): string {
  return `pve-ha-pg-backup-${type}.prom`;
}

const TLS_FILES = {
  ca: `${PGBACKREST_TLS_DIR}/ca.crt`,
  cert: `${PGBACKREST_TLS_DIR}/node.crt`,
  key: `${PGBACKREST_TLS_DIR}/node.key`,
};

function fail(message: string): never {
  throw new Error(`pgbackrest: ${message}`);
}

function requireIp(what: string, value: string): void {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(value))
    fail(`${what} must be an IPv4 address (got "${value}")`);
}

function requireName(what: string, value: string): void {
  // Certificate CNs and tls-server-auth keys: node names.
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(value))
    fail(`${what} must be a node name (got "${value}")`);
}

function tlsServer(port: number, clients: string[]): string[] {
  return [
    "tls-server-address=*",
    `tls-server-port=${port}`,
    `tls-server-ca-file=${TLS_FILES.ca}`,
    `tls-server-cert-file=${TLS_FILES.cert}`,
    `tls-server-key-file=${TLS_FILES.key}`,
    ...clients.map((cn) => `tls-server-auth=${cn}=${PGBACKREST_STANZA}`),
  ];
}

/** archive_command of the PostgreSQL nodes (postgresql.conf, single-quoted there). */
export function archiveCommand(): string {
  return `pgbackrest --stanza=${PGBACKREST_STANZA} archive-push %p`;
}

export interface PgNodeConfOptions {
  repoName: string;
  repoIp: string;
  tlsPort: number;
  pgPort: number;
}

/** pgbackrest.conf of a PostgreSQL node: the repository is remote, the node serves TLS to it. */
export function renderPgNodeConf(opts: PgNodeConfOptions): string {
  requireName("repoName", opts.repoName);
  requireIp("repoIp", opts.repoIp);
  return [
    "# Rendered by pve-ha-stack: a PostgreSQL node; the repository is on " + opts.repoName + ".",
    "[global]",
    `repo1-host=${opts.repoIp}`,
    "repo1-host-type=tls",
    `repo1-host-port=${opts.tlsPort}`,
    `repo1-host-ca-file=${TLS_FILES.ca}`,
    `repo1-host-cert-file=${TLS_FILES.cert}`,
    `repo1-host-key-file=${TLS_FILES.key}`,
    ...tlsServer(opts.tlsPort, [opts.repoName]),
    "log-level-console=warn",
    "log-level-file=info",
    "",
    `[${PGBACKREST_STANZA}]`,
    `pg1-path=${PG_DATA_DIR}`,
    `pg1-port=${opts.pgPort}`,
    `pg1-socket-path=${PG_SOCKET_DIR}`,
    "",
  ].join("\n");
}

export interface RepoConfOptions {
  repoPath: string;
  retentionFull: number;
  tlsPort: number;
  pgPort: number;
  /** Both PostgreSQL nodes: pgBackRest finds the primary among them at run time. */
  pgNodes: { name: string; ip: string }[];
}

/** pgbackrest.conf of the repository node. */
export function renderRepoConf(opts: RepoConfOptions): string {
  if (!/^\/[A-Za-z0-9_./-]+$/.test(opts.repoPath))
    fail(`repoPath must be an absolute path (got "${opts.repoPath}")`);
  if (!Number.isInteger(opts.retentionFull) || opts.retentionFull < 1)
    fail(`retentionFull must be an integer >= 1 (got ${opts.retentionFull})`);
  if (opts.pgNodes.length === 0) fail("needs at least one PostgreSQL node");
  const hosts = opts.pgNodes.flatMap((node, i) => {
    requireName("pg node name", node.name);
    requireIp(`pg node ${node.name}`, node.ip);
    const n = i + 1;
    return [
      `pg${n}-host=${node.ip}`,
      `pg${n}-host-type=tls`,
      `pg${n}-host-port=${opts.tlsPort}`,
      `pg${n}-host-ca-file=${TLS_FILES.ca}`,
      `pg${n}-host-cert-file=${TLS_FILES.cert}`,
      `pg${n}-host-key-file=${TLS_FILES.key}`,
      `pg${n}-path=${PG_DATA_DIR}`,
      `pg${n}-port=${opts.pgPort}`,
      `pg${n}-socket-path=${PG_SOCKET_DIR}`,
    ];
  });
  return [
    "# Rendered by pve-ha-stack: the backup repository node.",
    "[global]",
    `repo1-path=${opts.repoPath}`,
    `repo1-retention-full=${opts.retentionFull}`,
    "start-fast=y",
    ...tlsServer(
      opts.tlsPort,
      opts.pgNodes.map((n) => n.name),
    ),
    "log-level-console=info",
    "log-level-file=info",
    "",
    `[${PGBACKREST_STANZA}]`,
    ...hosts,
    "",
  ].join("\n");
}

/** restore.conf on the repository node: the local repository, a scratch data directory. */
export function renderRestoreConf(opts: { repoPath: string; scratchPort: number }): string {
  return [
    "# Rendered by pve-ha-stack: restores on the repository node (restore drill).",
    "[global]",
    `repo1-path=${opts.repoPath}`,
    "log-level-console=warn",
    "",
    `[${PGBACKREST_STANZA}]`,
    `pg1-path=${RESTORE_SCRATCH_DIR}`,
    `pg1-port=${opts.scratchPort}`,
    `pg1-socket-path=${PG_SOCKET_DIR}`,
    "",
  ].join("\n");
}

/**
 * postgresql.conf of a restored scratch instance (Debian keeps the cluster's own in /etc, so a
 * restored data directory has none). Local socket only, no archiving; hot standby off so the
 * replay needs no settings as large as the primary's.
 */
export function renderScratchPostgresConf(scratchPort: number): string {
  return [
    "# Rendered by pve-ha-stack: a scratch instance restored from the backup repository.",
    "listen_addresses = ''",
    `port = ${scratchPort}`,
    `unix_socket_directories = '${PG_SOCKET_DIR}'`,
    "shared_buffers = 32MB",
    "max_connections = 20",
    "archive_mode = off",
    "hot_standby = off",
    "",
  ].join("\n");
}

/** The pgBackRest TLS server as a service (the package has no unit for it). */
export function renderServerUnit(): string {
  return `[Unit]
Description=pgBackRest TLS server (pve-ha-stack)
After=network-online.target
Wants=network-online.target

[Service]
User=postgres
Group=postgres
ExecStart=/usr/bin/pgbackrest server
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=1

[Install]
WantedBy=multi-user.target
`;
}

/**
 * Runs one backup and records its outcome for node_exporter's textfile collector: the time of
 * the last run, whether it succeeded, and the time of the last success (kept from the previous
 * file when this run fails).
 */
export function renderRunScript(textfileDir: string): string {
  return `#!/usr/bin/env bash
# pgBackRest backup of one type with its outcome as node_exporter textfile (pve-ha-stack).
set -Euo pipefail
type="$1"
case "$type" in full | incr) ;; *) echo "usage: $0 full|incr" >&2; exit 2 ;; esac
file="${textfileDir}/pve-ha-pg-backup-$type.prom"
last_success=$(awk '/^pve_ha_pg_backup_last_success_timestamp_seconds/ { print $2 }' "$file" 2>/dev/null)
started=$(date +%s)
runuser -u postgres -- pgbackrest --stanza=${PGBACKREST_STANZA} --type="$type" backup
status=$?
finished=$(date +%s)
ok=0
if ((status == 0)); then ok=1; last_success=$finished; fi
tmp=$(mktemp "${textfileDir}/.pve-ha-pg-backup.XXXXXX")
{
  echo "# HELP pve_ha_pg_backup_last_run_ok 1 if the last backup of this type succeeded."
  echo "# TYPE pve_ha_pg_backup_last_run_ok gauge"
  echo "pve_ha_pg_backup_last_run_ok{type=\\"$type\\"} $ok"
  echo "# HELP pve_ha_pg_backup_last_run_timestamp_seconds When the last backup of this type ended."
  echo "# TYPE pve_ha_pg_backup_last_run_timestamp_seconds gauge"
  echo "pve_ha_pg_backup_last_run_timestamp_seconds{type=\\"$type\\"} $finished"
  echo "# HELP pve_ha_pg_backup_last_duration_seconds How long the last backup of this type took."
  echo "# TYPE pve_ha_pg_backup_last_duration_seconds gauge"
  echo "pve_ha_pg_backup_last_duration_seconds{type=\\"$type\\"} $((finished - started))"
  if [[ -n "$last_success" ]]; then
    echo "# HELP pve_ha_pg_backup_last_success_timestamp_seconds When a backup of this type last succeeded."
    echo "# TYPE pve_ha_pg_backup_last_success_timestamp_seconds gauge"
    echo "pve_ha_pg_backup_last_success_timestamp_seconds{type=\\"$type\\"} $last_success"
  fi
} >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$file"
exit "$status"
`;
}

export function renderBackupService(type: BackupType): string {
  return `[Unit]
Description=pgBackRest ${type} backup (pve-ha-stack)
After=network-online.target

[Service]
Type=oneshot
# Root writes the textfile; pgBackRest itself runs as postgres (the run script).
ExecStart=${PGBACKREST_RUN_SCRIPT_PATH} ${type}
`;
}

export function renderBackupTimer(type: BackupType, onCalendar: string): string {
  if (!SYSTEMD_CALENDAR.test(onCalendar))
    fail(`schedule must be a systemd calendar event (got "${onCalendar}")`);
  return `[Unit]
Description=pgBackRest ${type} backup schedule (pve-ha-stack)

[Timer]
OnCalendar=${onCalendar}
RandomizedDelaySec=60
Persistent=true

[Install]
WantedBy=timers.target
`;
}

export function backupUnitName(type: BackupType): string {
  return `pgbackrest-${type}`;
}

const PG_BIN = "/usr/lib/postgresql/15/bin";

/** Stops a scratch instance (if one runs) and removes its data directory. */
export function renderScratchStopScript(): string {
  return `set -Eeuo pipefail
if [[ -f ${RESTORE_SCRATCH_DIR}/postmaster.pid ]]; then
  runuser -u postgres -- ${PG_BIN}/pg_ctl -D ${RESTORE_SCRATCH_DIR} -m immediate -w -t 60 stop >/dev/null || true
fi
rm -rf ${RESTORE_SCRATCH_DIR}
`;
}

export interface ScratchRestoreOptions {
  scratchPort: number;
  /** A point in time (PostgreSQL timestamp with zone); absent: the latest archived WAL. */
  targetTime?: string;
  /** Bound of the wait until the restored instance accepts writes, s. */
  writableWithinS: number;
}

/**
 * On the repository node: restore the newest backup into a fresh scratch directory, replay the
 * archive to the latest point or to a time, promote, start it on the scratch port and wait
 * (bounded) until it accepts a write. Prints `writable` at the end.
 */
export function renderScratchRestoreScript(opts: ScratchRestoreOptions): string {
  if (opts.targetTime !== undefined && !/^[0-9 :.+-]+$/.test(opts.targetTime))
    fail(`targetTime must be a timestamp (got "${opts.targetTime}")`);
  const target =
    opts.targetTime === undefined
      ? ""
      : ` --type=time --target='${opts.targetTime}' --target-action=promote`;
  const d = RESTORE_SCRATCH_DIR;
  return `${renderScratchStopScript()}install -d -m 0700 -o postgres -g postgres ${d}
cd /
runuser -u postgres -- pgbackrest --config=${PGBACKREST_RESTORE_CONF_PATH} --stanza=${PGBACKREST_STANZA}${target} restore
printf '%s' ${shellQuote(renderScratchPostgresConf(opts.scratchPort))} >${d}/postgresql.conf
printf '%s\\n' 'local all all peer' >${d}/pg_hba.conf
: >${d}/pg_ident.conf
chown postgres:postgres ${d}/postgresql.conf ${d}/pg_hba.conf ${d}/pg_ident.conf
runuser -u postgres -- ${PG_BIN}/pg_ctl -D ${d} -l ${d}/startup.log -w -t ${opts.writableWithinS} start >/dev/null
deadline=$((SECONDS + ${opts.writableWithinS}))
until [[ "$(runuser -u postgres -- psql -XAtq -h ${PG_SOCKET_DIR} -p ${opts.scratchPort} -d postgres -c 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" == t ]]; do
  ((SECONDS < deadline)) || { tail -n 20 ${d}/startup.log >&2; echo "restored instance not writable after ${opts.writableWithinS}s" >&2; exit 1; }
  sleep 0.5
done
runuser -u postgres -- psql -XAtq -h ${PG_SOCKET_DIR} -p ${opts.scratchPort} -d postgres -c 'CREATE TABLE IF NOT EXISTS restore_probe (t timestamptz); INSERT INTO restore_probe VALUES (now())' >/dev/null
echo writable
`;
}

import { stringify } from "yaml";
import { METRICS_PORTS } from "./ports";

/**
 * postgres_exporter (Debian 12: 0.11.1) runs as its own OS user and logs in over the local
 * socket with peer authentication as the database role of the same name. That role only has
 * LOGIN and pg_monitor: it can read statistics, not data.
 */
export const POSTGRES_EXPORTER_ROLE = "exporter";
export const POSTGRES_EXPORTER_DEFAULTS_PATH = "/etc/default/prometheus-postgres-exporter";
export const POSTGRES_EXPORTER_QUERIES_PATH = "/etc/prometheus/postgres-exporter-queries.yml";

/** Idempotent SQL (run on the primary; standbys get the role by replication). */
export function renderPostgresExporterRoleSql(role = POSTGRES_EXPORTER_ROLE): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(role)) {
    throw new Error(`postgres exporter: role must be a lower-case identifier (got "${role}")`);
  }
  return [
    "SET client_min_messages = warning;",
    "DO $$",
    "BEGIN",
    `  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN`,
    `    CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;`,
    "  END IF;",
    "END",
    "$$;",
    `GRANT pg_monitor TO ${role};`,
    "",
  ].join("\n");
}

/**
 * Extra queries. pg_settings and pg_database replace the exporter's settings metrics (~350
 * settings parsed per scrape for the one max_connections we read) and its database collector
 * (which also sizes template0/template1): together ~30 % of a scrape's CPU, measured with the
 * exporter's and its backend's CPU time over 100 scrapes (8.9 -> 5.9 ms).
 * pg_replica: replica state seen from the standby itself. The lag is 0 while everything
 * received has been replayed, so an idle primary does not look like a lagging standby.
 */
export function renderPostgresExporterQueries(): string {
  return stringify(
    {
      pg_replica: {
        query: [
          "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END AS is_replica,",
          "  CASE WHEN NOT pg_is_in_recovery()",
          "         OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0",
          "       ELSE GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()))",
          "  END AS lag_seconds,",
          "  (SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming')",
          "    AS wal_receiver_streaming",
        ].join("\n"),
        master: true,
        metrics: [
          { is_replica: { usage: "GAUGE", description: "1 if the server is in recovery" } },
          { lag_seconds: { usage: "GAUGE", description: "Seconds the replay is behind" } },
          {
            wal_receiver_streaming: {
              usage: "GAUGE",
              description: "1 if the WAL receiver is streaming from the primary",
            },
          },
        ],
      },
      pg_settings: {
        query: "SELECT current_setting('max_connections')::float AS max_connections",
        master: true,
        metrics: [
          { max_connections: { usage: "GAUGE", description: "Server setting max_connections" } },
        ],
      },
      pg_database: {
        query:
          "SELECT datname, pg_database_size(datname)::float AS size_bytes FROM pg_database WHERE NOT datistemplate",
        master: true,
        metrics: [
          { datname: { usage: "LABEL", description: "Database name" } },
          { size_bytes: { usage: "GAUGE", description: "Disk space used by the database" } },
        ],
      },
    },
    { lineWidth: 0 },
  );
}

/** Value inside single quotes of a shell-sourced /etc/default file. */
function quoted(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/** /etc/default/prometheus-postgres-exporter (read by the Debian unit as EnvironmentFile). */
export function renderPostgresExporterDefaults(role = POSTGRES_EXPORTER_ROLE): string {
  const dsn = `user=${role} host=/run/postgresql dbname=postgres sslmode=disable`;
  const args = [
    `--web.listen-address=:${METRICS_PORTS.postgresExporter}`,
    `--extend.query-path=${POSTGRES_EXPORTER_QUERIES_PATH}`,
    // Served by the extra queries instead (see renderPostgresExporterQueries); no dashboard or
    // alert reads pg_stat_bgwriter.
    "--disable-settings-metrics",
    "--no-collector.database",
    "--no-collector.bgwriter",
  ].join(" ");
  return `DATA_SOURCE_NAME=${quoted(dsn)}\nARGS=${quoted(args)}\n`;
}

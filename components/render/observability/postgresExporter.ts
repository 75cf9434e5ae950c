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
 * Extra queries: replica state seen from the standby itself. The lag is 0 while everything
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
  ].join(" ");
  return `DATA_SOURCE_NAME=${quoted(dsn)}\nARGS=${quoted(args)}\n`;
}

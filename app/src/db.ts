/** PostgreSQL access: pool, schema migration, idempotent insert, reads for the admin page. */
import { Pool } from "pg";
import type { AppConfig } from "./config";
import type { MessagePayload } from "./message";
import {
  type FlushResult,
  type FlushWaitOptions,
  ReplicaFlushError,
  type ReplicationProbe,
  waitForReplicaFlush,
} from "./replica-flush";

export interface StoredMessage {
  message_uid: string;
  body: string;
  produced_by: string;
  produced_at: string;
  stored_by: string;
  stored_at: string;
}

// Any fixed 64-bit number shared by every app node; it only has to differ from other lock users.
const MIGRATION_LOCK_KEY = "7305462710094861571";

const MIGRATION = `
CREATE TABLE IF NOT EXISTS messages (
  message_uid text PRIMARY KEY,
  body text NOT NULL,
  produced_by text NOT NULL,
  produced_at timestamptz NOT NULL,
  stored_by text NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS messages_stored_at_idx ON messages (stored_at DESC, message_uid);
`;

export function createPool(pg: AppConfig["pg"]): Pool {
  return new Pool({
    host: pg.host,
    port: pg.port,
    database: pg.database,
    user: pg.user,
    password: pg.password,
    max: pg.poolMax,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30000,
    query_timeout: 10000,
    application_name: "pve-ha-app",
    // A commit returns only once its WAL is flushed on the primary, whatever the server's
    // default: the consumer's "stored" means durable there, and the position it then waits for
    // on a replica (pg_current_wal_flush_lsn) covers the commit only under this setting.
    options: "-c synchronous_commit=on",
  });
}

/**
 * Idempotent schema migration. Two nodes start together: the transaction-scoped advisory lock
 * makes the second wait and then find everything in place.
 */
export async function migrate(pool: SessionPool): Promise<void> {
  await withSession(pool, async (client) => {
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
      await client.query(MIGRATION);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Inserts the messages in one statement (one implicit transaction: it has committed when the
 * promise resolves) and returns the uids that were new. Known uids are skipped, not errors.
 */
export async function insertMessages(
  db: Queryable,
  messages: readonly MessagePayload[],
  storedBy: string,
): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const result = await db.query<{ message_uid: string }>(
    `INSERT INTO messages (message_uid, body, produced_by, produced_at, stored_by)
     SELECT uid, body, produced_by, produced_at, $5
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
         AS m(uid, body, produced_by, produced_at)
     ON CONFLICT (message_uid) DO NOTHING
     RETURNING message_uid`,
    [
      messages.map((m) => m.message_uid),
      messages.map((m) => m.body),
      messages.map((m) => m.hostname),
      messages.map((m) => m.timestamp),
      storedBy,
    ],
  );
  return new Set(result.rows.map((r) => r.message_uid));
}

/** What insertMessages needs: a pool (any session) or one session. */
export interface Queryable {
  query<R extends object>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** One session out of the pool. */
export interface Session extends Queryable {
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
  /** With an error (or true) the pool closes the session instead of keeping it. */
  release(destroy?: Error | boolean): void;
}

/** A pool handing out one session at a time (pg's Pool; a fake in the unit tests). */
export interface SessionPool {
  connect(): Promise<Session>;
}

/**
 * Runs `fn` on one session of the pool. A session that failed is destroyed, never put back: it
 * may be cut (a failover: HAProxy ends the sessions of a node marked down) or on a node that
 * became read-only. pg emits a broken connection as an 'error' event on the session, also while
 * a query runs; out of the pool nobody else listens, and an unheard 'error' would end the
 * process, so it is heard here (the query in flight, or the next one, fails with it).
 */
export async function withSession<T>(
  pool: SessionPool,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const session = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken ??= error;
  };
  session.on("error", onError);
  let result: T;
  try {
    result = await fn(session);
  } catch (error) {
    session.off("error", onError);
    session.release(error instanceof Error ? error : true);
    throw error;
  }
  session.off("error", onError);
  session.release(broken);
  return result;
}

/**
 * The primary's WAL flush position and what every WAL sender reports, in one round trip, on the
 * session that committed (so on the server that committed: through HAProxy another session may
 * already be on another node). The flush position, not pg_current_wal_lsn (the write position,
 * possibly not yet flushed, so not yet sendable) nor pg_current_wal_insert_lsn (WAL of other
 * sessions not even written: an open transaction's WAL on a partial page can stay unflushed, and
 * unsent, until something else flushes it): with synchronous_commit on (createPool) the commit
 * has returned only once its record was flushed, so this position is at or beyond the commit and
 * is exactly what a WAL sender may ship.
 */
const REPLICATION_PROBE_SQL = `SELECT pg_current_wal_flush_lsn()::text AS lsn,
       coalesce(json_agg(json_build_object('state', state, 'flush_lsn', flush_lsn::text)), '[]'::json)
         AS replicas
  FROM pg_stat_replication`;

/**
 * insertMessages, then, on the same session, waits until a replica has flushed the commit (see
 * replica-flush.ts). Rejects with a ReplicaFlushError when a connected replica does not get there
 * within the bound (or its position is hidden from this role), and with the database's error when
 * the insert, the position or a look at pg_stat_replication fails (a failover cuts the session,
 * a node being demoted answers read-only); the caller retries the whole batch, which the
 * insert's ON CONFLICT makes harmless. A session that failed is destroyed, never reused.
 */
export async function insertMessagesDurably(
  pool: SessionPool,
  messages: readonly MessagePayload[],
  storedBy: string,
  wait: FlushWaitOptions,
  onFlush?: (result: FlushResult) => void,
): Promise<Set<string>> {
  const { inserted, result } = await withSession(pool, async (session) => {
    const uids = await insertMessages(session, messages, storedBy);
    const flush = await waitForReplicaFlush(async () => {
      const { rows } = await session.query<ReplicationProbe>(REPLICATION_PROBE_SQL);
      const row = rows[0];
      if (!row) throw new Error("the replication probe returned no row");
      return row;
    }, wait);
    return { inserted: uids, result: flush };
  });
  onFlush?.(result);
  if (result.outcome === "timeout" || result.outcome === "hidden") {
    throw new ReplicaFlushError(result, inserted);
  }
  return inserted;
}

export async function listMessages(
  pool: Pool,
  page: { limit: number; offset: number },
): Promise<{ total: number; messages: StoredMessage[] }> {
  const [count, rows] = await Promise.all([
    pool.query<{ total: string }>("SELECT count(*) AS total FROM messages"),
    pool.query<StoredMessage>(
      `SELECT message_uid, body, produced_by,
              to_json(produced_at)#>>'{}' AS produced_at, stored_by,
              to_json(stored_at)#>>'{}' AS stored_at
         FROM messages ORDER BY stored_at DESC, message_uid DESC LIMIT $1 OFFSET $2`,
      [page.limit, page.offset],
    ),
  ]);
  return { total: Number(count.rows[0]?.total ?? 0), messages: rows.rows };
}

export async function pingDatabase(pool: Pool): Promise<void> {
  await pool.query("SELECT 1");
}

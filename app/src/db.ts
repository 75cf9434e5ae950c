/** PostgreSQL access: pool, schema migration, idempotent insert, reads for the admin page. */
import { Pool, type PoolClient } from "pg";
import type { AppConfig } from "./config";
import type { MessagePayload } from "./message";

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
  });
}

/**
 * Idempotent schema migration. Two nodes start together: the transaction-scoped advisory lock
 * makes the second wait and then find everything in place.
 */
export async function migrate(pool: Pool): Promise<void> {
  const client: PoolClient = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
    await client.query(MIGRATION);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Inserts the messages in one statement (one implicit transaction: it has committed when the
 * promise resolves) and returns the uids that were new. Known uids are skipped, not errors.
 */
export async function insertMessages(
  pool: Pool,
  messages: readonly MessagePayload[],
  storedBy: string,
): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const result = await pool.query<{ message_uid: string }>(
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

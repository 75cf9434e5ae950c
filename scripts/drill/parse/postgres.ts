/** Rows of `psql -At` output (fields separated by `|`), empty lines dropped. */
export function parsePsqlRows(text: string): string[][] {
  return text
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l.length > 0)
    .map((l) => l.split("|"));
}

export interface ReplicationRow {
  applicationName: string;
  clientAddr: string;
  state: string;
  syncState: string;
  /** replay_lag in ms; null when PostgreSQL reports none (idle standby). */
  replayLagMs: number | null;
  /** bytes between the primary's current WAL position and the standby's replay position. */
  replayLagBytes: number;
}

/** SQL whose -At output parseReplicationRows reads. */
export const REPLICATION_SQL =
  "select application_name, coalesce(host(client_addr),''), state, sync_state, " +
  "coalesce((extract(epoch from replay_lag)*1000)::text,''), " +
  "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn),0) from pg_stat_replication";

export function parseReplicationRows(text: string): ReplicationRow[] {
  return parsePsqlRows(text).map((f, i) => {
    if (f.length !== 6) {
      throw new Error(`pg_stat_replication row ${i + 1}: expected 6 fields (got ${f.join("|")})`);
    }
    return {
      applicationName: f[0],
      clientAddr: f[1],
      state: f[2],
      syncState: f[3],
      replayLagMs: f[4] === "" ? null : Number(f[4]),
      replayLagBytes: Number(f[5]),
    };
  });
}

export interface TableDigest {
  count: number;
  md5: string;
  walLsn: string;
  inRecovery: boolean;
}

/** SQL for a digest of every row of the messages table (count + md5 over all columns in uid order). */
export function digestSql(uidPrefix = ""): string {
  const where = uidPrefix ? ` where message_uid like '${escapeLike(uidPrefix)}%'` : "";
  return (
    "select count(*), coalesce(md5(string_agg(concat_ws('|', message_uid, body, produced_by, " +
    "produced_at, stored_by, stored_at), E'\\n' order by message_uid)),''), " +
    "case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end, " +
    `pg_is_in_recovery() from messages${where}`
  );
}

export function escapeLike(prefix: string): string {
  if (!/^[0-9a-zA-Z-]*$/.test(prefix)) {
    throw new Error(`uid prefix may hold only letters, digits and '-' (got ${prefix})`);
  }
  return prefix;
}

export function parseDigest(text: string): TableDigest {
  const rows = parsePsqlRows(text);
  if (rows.length !== 1 || rows[0].length !== 4) {
    throw new Error(`digest: expected one row of 4 fields (got ${JSON.stringify(text.trim())})`);
  }
  const [count, md5, walLsn, rec] = rows[0];
  return { count: Number(count), md5, walLsn, inRecovery: rec === "t" };
}

/** Compares PostgreSQL LSNs such as 0/3000148; negative when a < b. */
export function compareLsn(a: string, b: string): number {
  const parse = (lsn: string): bigint => {
    const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn.trim());
    if (!m) throw new Error(`not a PostgreSQL LSN: ${JSON.stringify(lsn)}`);
    return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
  };
  const d = parse(a) - parse(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

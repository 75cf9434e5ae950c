import { endpointPort, type StackNode } from "../outputs";
import { localPsqlArgv } from "../../../components/render/postgres";
import { APP_DIR, APP_NODE_BIN } from "../../../components/render/app";
import {
  digestSql,
  escapeLike,
  parseDigest,
  parsePsqlRows,
  parseReplicationRows,
  REPLICATION_SQL,
  type ReplicationRow,
  type TableDigest,
} from "../parse/postgres";
import type { DrillContext } from "./context";
import { pctExec } from "./pct";
import { shellQuote } from "./commandLine";

/**
 * Runs SQL as the postgres superuser inside a PostgreSQL container (psql -At, SQL on stdin), over
 * the local socket on the port of the stack's pgPrimary output (see localPsqlArgv).
 */
export function psql(
  ctx: DrillContext,
  node: StackNode,
  sql: string,
  timeoutMs = 20_000,
): Promise<string> {
  const argv = localPsqlArgv(endpointPort(ctx.outputs.pgPrimary), ctx.db.database, [
    "-XAtq",
    "-v",
    "ON_ERROR_STOP=1",
  ]);
  return pctExec(ctx.pct, node.vmid, argv, { stdin: `${sql};\n`, timeoutMs });
}

export async function digest(
  ctx: DrillContext,
  node: StackNode,
  uidPrefix = "",
): Promise<TableDigest> {
  return parseDigest(await psql(ctx, node, digestSql(uidPrefix)));
}

/** One number computed over the rows whose message_uid starts with a prefix. */
async function countOverPrefix(
  ctx: DrillContext,
  node: StackNode,
  prefix: string,
  expression: string,
): Promise<number> {
  const out = await psql(
    ctx,
    node,
    `select ${expression} from messages where message_uid like '${escapeLike(prefix)}%'`,
  );
  return Number(out.trim());
}

export async function countWithPrefix(
  ctx: DrillContext,
  node: StackNode,
  prefix: string,
): Promise<number> {
  return countOverPrefix(ctx, node, prefix, "count(*)");
}

export async function uidsWithPrefix(
  ctx: DrillContext,
  node: StackNode,
  prefix: string,
): Promise<Set<string>> {
  const out = await psql(
    ctx,
    node,
    `select message_uid from messages where message_uid like '${escapeLike(prefix)}%'`,
  );
  return new Set(parsePsqlRows(out).map((r) => r[0]));
}

export interface StoredMessage {
  uid: string;
  producedBy: string;
  storedBy: string;
}

export async function storedMessages(
  ctx: DrillContext,
  node: StackNode,
  prefix: string,
): Promise<StoredMessage[]> {
  const out = await psql(
    ctx,
    node,
    `select message_uid, produced_by, stored_by from messages where message_uid like '${escapeLike(prefix)}%'`,
  );
  return parsePsqlRows(out).map(([uid, producedBy, storedBy]) => ({ uid, producedBy, storedBy }));
}

export async function replication(ctx: DrillContext): Promise<ReplicationRow[]> {
  return parseReplicationRows(await psql(ctx, ctx.pgPrimary, REPLICATION_SQL));
}

export async function inRecovery(ctx: DrillContext, node: StackNode): Promise<boolean | null> {
  try {
    return (await psql(ctx, node, "select pg_is_in_recovery()", 8000)).trim() === "t";
  } catch {
    return null;
  }
}

/**
 * Runs SQL as the app's database user through HAProxy (its read-write or read-only port),
 * from inside a PostgreSQL container (the standby unless `from` names another): psql is there and
 * HAProxy is reachable. The password travels on stdin, never on a command line.
 */
export async function viaHaproxy(
  ctx: DrillContext,
  port: number,
  sql: string,
  from: StackNode = haproxyClient(ctx),
): Promise<{ ok: boolean; out: string; error: string }> {
  if (from.role === "app") return viaHaproxyFromApp(ctx, port, sql, from);
  const script = [
    `export PGPASSWORD=${shellQuote(ctx.db.password)}`,
    `export PGCONNECT_TIMEOUT=5`,
    `exec psql -XAtq -v ON_ERROR_STOP=1 -h ${shellQuote(ctx.pgProxy.ip)} -p ${port} -U ${shellQuote(ctx.db.user)} -d ${shellQuote(ctx.db.database)} -c ${shellQuote(sql)}`,
  ].join("\n");
  const r = await ctx.pct.run(["exec", String(from.vmid), "--", "bash", "-s"], {
    stdin: `${script}\n`,
    timeoutMs: 20_000,
  });
  return { ok: r.code === 0, out: r.stdout, error: r.stderr.trim() };
}

/**
 * Where SQL through HAProxy comes from: HAProxy's PostgreSQL ports take only the app nodes once
 * the containers have their firewalls (exposure.ts), so an app node then, else the standby.
 */
export function haproxyClient(ctx: DrillContext): StackNode {
  return ctx.outputs.settings.containerFirewall ? ctx.appNodes[0] : ctx.pgStandby;
}

/**
 * An app node has no psql: the app's own PostgreSQL driver (`pg` in its bundle) runs the query
 * and prints psql -At's format (columns joined by |, booleans t/f, NULL empty). The password
 * comes on stdin with the query, never on a command line.
 */
async function viaHaproxyFromApp(
  ctx: DrillContext,
  port: number,
  sql: string,
  from: StackNode,
): Promise<{ ok: boolean; out: string; error: string }> {
  const input = JSON.stringify({
    sql,
    connection: {
      host: ctx.pgProxy.ip,
      port,
      user: ctx.db.user,
      password: ctx.db.password,
      database: ctx.db.database,
    },
  });
  const r = await ctx.pct.run(["exec", String(from.vmid), "--", APP_NODE_BIN, "-e", APP_SQL_JS], {
    stdin: input,
    timeoutMs: 20_000,
  });
  return { ok: r.code === 0, out: r.stdout, error: r.stderr.trim() };
}

/**
 * The script an app node's Node.js runs for viaHaproxy: `{ sql, connection }` as JSON on stdin,
 * the rows on stdout as psql -At prints them.
 */
export const APP_SQL_JS = [
  `const { Client } = require(${JSON.stringify(`${APP_DIR}/node_modules/pg`)});`,
  "let input = '';",
  "process.stdin.on('data', (d) => (input += d));",
  "process.stdin.on('end', async () => {",
  "  const q = JSON.parse(input);",
  "  const c = new Client({ ...q.connection, connectionTimeoutMillis: 5000 });",
  "  try {",
  "    await c.connect();",
  "    const r = await c.query({ text: q.sql, rowMode: 'array' });",
  "    const cell = (v) => (v === null ? '' : v === true ? 't' : v === false ? 'f' : String(v));",
  "    for (const row of r.rows) console.log(row.map(cell).join('|'));",
  "    await c.end();",
  "  } catch (e) {",
  "    console.error(e.message);",
  "    process.exit(1);",
  "  }",
  "});",
].join("\n");

/** Rows beyond one per message_uid among the uids with a prefix (0 when each is stored once). */
export async function duplicateRows(
  ctx: DrillContext,
  node: StackNode,
  prefix: string,
): Promise<number> {
  return countOverPrefix(ctx, node, prefix, "count(*) - count(distinct message_uid)");
}

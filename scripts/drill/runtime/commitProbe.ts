import { APP_DIR, APP_NODE_BIN } from "../../../components/render/app";
import { endpointPort, type StackNode } from "../outputs";
import { parseCommitAttempts, type CommitAttempt } from "../pgFailover/plan";
import type { DrillContext } from "./context";

/**
 * The direct-commit probe, run by an app node's Node.js with the app's own PostgreSQL driver: one
 * autocommit INSERT through HAProxy's read-write port every intervalMs for durationMs, on one
 * connection made again after any error; one JSON line per attempt. A success means the COMMIT
 * returned (with pgSynchronous: after the synchronous standby flushed it).
 */
export const COMMIT_PROBE_JS = [
  `const { Client } = require(${JSON.stringify(`${APP_DIR}/node_modules/pg`)});`,
  "const sleep = (ms) => new Promise((r) => setTimeout(r, ms));",
  "let input = '';",
  "process.stdin.on('data', (d) => (input += d));",
  "process.stdin.on('end', async () => {",
  "  const q = JSON.parse(input);",
  "  const end = Date.now() + q.durationMs;",
  "  let c = null;",
  "  for (let n = 0; Date.now() < end; n++) {",
  "    const next = Date.now() + q.intervalMs;",
  "    const uid = q.prefix + n.toString(16).padStart(12, '0');",
  "    const t0 = Date.now();",
  "    let ok = false, err = '';",
  "    try {",
  "      if (!c) {",
  "        c = new Client({ ...q.connection, connectionTimeoutMillis: q.timeoutMs, query_timeout: q.timeoutMs });",
  "        c.on('error', () => {});",
  "        await c.connect();",
  "      }",
  "      await c.query(\"insert into messages (message_uid, body, produced_by, produced_at, stored_by) values ($1, 'drill commit probe', 'drill', now(), 'drill')\", [uid]);",
  "      ok = true;",
  "    } catch (e) {",
  "      err = String(e && e.message).slice(0, 160);",
  "      const old = c; c = null;",
  "      if (old) old.end().catch(() => {});",
  "    }",
  "    console.log(JSON.stringify({ n, uid, t0, t1: Date.now(), ok, err }));",
  "    await sleep(Math.max(0, next - Date.now()));",
  "  }",
  "  if (c) await c.end().catch(() => {});",
  "});",
].join("\n");

export interface CommitProbeSpec {
  /** message_uid prefix of the probe's rows: uidSeries' prefix plus `4000-8000-` */
  prefix: string;
  durationMs: number;
  intervalMs: number;
  timeoutMs: number;
}

/** Runs the probe on `from` (an app node: HAProxy's ports take only the app nodes) to its end. */
export async function runCommitProbe(
  ctx: DrillContext,
  from: StackNode,
  spec: CommitProbeSpec,
): Promise<CommitAttempt[]> {
  const input = JSON.stringify({
    ...spec,
    connection: {
      host: ctx.pgProxy.ip,
      port: endpointPort(ctx.outputs.haproxyReadWrite),
      user: ctx.db.user,
      password: ctx.db.password,
      database: ctx.db.database,
    },
  });
  const r = await ctx.pct.run(
    ["exec", String(from.vmid), "--", APP_NODE_BIN, "-e", COMMIT_PROBE_JS],
    { stdin: input, timeoutMs: spec.durationMs + 30_000 },
  );
  const attempts = parseCommitAttempts(r.stdout);
  if (attempts.length === 0)
    throw new Error(
      `the commit probe on ${from.name} recorded nothing (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`,
    );
  return attempts;
}

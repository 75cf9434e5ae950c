/**
 * A throwaway PostgreSQL 15 cluster on a loopback port, in a temporary directory, run as the
 * postgres user when the tests run as root (PostgreSQL refuses to run as root).
 */
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";

const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  stop(): void;
  /** Immediate shutdown (like a crash), then start again after `downMs`. */
  restart(downMs: number): Promise<void>;
  /** Immediate shutdown (like a crash), and no start. */
  crash(): void;
  query<T extends object>(sql: string, params?: unknown[]): Promise<T[]>;
}

function asPostgres(cmd: string, args: string[]): string[] {
  return process.getuid?.() === 0
    ? ["runuser", "-u", "postgres", "--", cmd, ...args]
    : [cmd, ...args];
}

function run(cmd: string, args: string[]): void {
  const [file, ...rest] = asPostgres(cmd, args);
  execFileSync(file as string, rest, { stdio: ["ignore", "pipe", "pipe"] });
}

/** Like run() without blocking the event loop (a TcpProxy of this process may be in the way). */
function runAsync(cmd: string, args: string[], timeoutMs = 120000): Promise<void> {
  const [file, ...rest] = asPostgres(cmd, args);
  return new Promise((resolve, reject) => {
    execFile(file as string, rest, { timeout: timeoutMs }, (error, _stdout, stderr) =>
      error ? reject(new Error(`${cmd} failed: ${error.message}\n${stderr}`)) : resolve(),
    );
  });
}

/** A temporary directory the postgres user owns when the tests run as root. */
function ownedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  return dir;
}

/** pg_ctl's arguments for the cluster in `dir`/data on `port` (socket in `dir`, loopback only). */
function pgCtlArgs(dir: string, port: number, action: string, extra: string[] = []): string[] {
  return [
    "-D",
    join(dir, "data"),
    "-l",
    join(dir, "server.log"),
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
    "-w",
    "-t",
    "30",
    ...extra,
    action,
  ];
}

function pgCtl(dir: string, port: number): (action: string, extra?: string[]) => void {
  return (action, extra = []) => run(`${PG_BIN}/pg_ctl`, pgCtlArgs(dir, port, action, extra));
}

function queryAs(
  port: number,
  user: string,
  password: string,
): <T extends object>(sql: string, params?: unknown[]) => Promise<T[]> {
  return async <T extends object>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const client = new Client({ host: "127.0.0.1", port, user, password, database: "app" });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
}

export async function startPostgres(port: number): Promise<PostgresServer> {
  const dir = ownedTempDir("pve-ha-app-pg-");
  const dataDir = join(dir, "data");
  const password = `pw-${process.pid}-${Date.now()}`;
  writeFileSync(join(dir, "pwfile"), `${password}\n`);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(join(dir, "pwfile"), uid, gid);
  }
  run(`${PG_BIN}/initdb`, [
    "-D",
    dataDir,
    "-U",
    "app",
    "--pwfile",
    join(dir, "pwfile"),
    "-A",
    "scram-sha-256",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  const ctl = pgCtl(dir, port);
  ctl("start");

  const admin = new Client({
    host: "127.0.0.1",
    port,
    user: "app",
    password,
    database: "postgres",
  });
  await admin.connect();
  await admin.query("CREATE DATABASE app");
  await admin.end();

  return {
    host: "127.0.0.1",
    port,
    user: "app",
    password,
    database: "app",
    stop() {
      try {
        ctl("stop", ["-m", "fast"]);
      } catch {
        // already stopped (crash())
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async restart(downMs: number) {
      ctl("stop", ["-m", "immediate"]);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      ctl("start");
    },
    crash() {
      ctl("stop", ["-m", "immediate"]);
    },
    query: queryAs(port, "app", password),
  };
}

export interface PostgresReplica {
  port: number;
  /** Ends recovery: the replica becomes a primary on a new timeline. */
  promote(): void;
  stop(): void;
  query<T extends object>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * A streaming replica of `primary`: pg_basebackup -R into a temporary directory, started on
 * `port`. It streams from `upstreamPort` (default the primary's; a TcpProxy in between lets a
 * test pause the replication link).
 */
export async function startReplica(
  primary: PostgresServer,
  port: number,
  upstreamPort = primary.port,
): Promise<PostgresReplica> {
  const dir = ownedTempDir("pve-ha-app-pg-replica-");
  const conninfo =
    `host=127.0.0.1 port=${upstreamPort} user=${primary.user} ` +
    `password=${primary.password} application_name=replica1`;
  await runAsync(`${PG_BIN}/pg_basebackup`, [
    "-d",
    conninfo,
    "-D",
    join(dir, "data"),
    "-X",
    "stream",
    "-R",
    "-c",
    "fast",
    "--no-sync",
  ]);
  const ctl = pgCtl(dir, port);
  // Not blocking: the replica may need its upstream (through a TcpProxy of this process).
  await runAsync(`${PG_BIN}/pg_ctl`, pgCtlArgs(dir, port, "start"));
  return {
    port,
    promote() {
      ctl("promote");
    },
    stop() {
      try {
        ctl("stop", ["-m", "fast"]);
      } catch {
        // already stopped
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    query: queryAs(port, primary.user, primary.password),
  };
}

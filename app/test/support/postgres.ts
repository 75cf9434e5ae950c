/**
 * A throwaway PostgreSQL 15 cluster on a loopback port, in a temporary directory, run as the
 * postgres user when the tests run as root (PostgreSQL refuses to run as root).
 */
import { execFileSync } from "node:child_process";
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

export async function startPostgres(port: number): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), "pve-ha-app-pg-"));
  const dataDir = join(dir, "data");
  const password = `pw-${process.pid}-${Date.now()}`;
  writeFileSync(join(dir, "pwfile"), `${password}\n`);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
    chownSync(join(dir, "pwfile"), uid, gid);
  }
  chmodSync(dir, 0o700);
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
  const ctl = (action: string, extra: string[] = []): void =>
    run(`${PG_BIN}/pg_ctl`, [
      "-D",
      dataDir,
      "-l",
      join(dir, "server.log"),
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      "-w",
      "-t",
      "30",
      ...extra,
      action,
    ]);
  ctl("start");

  const connect = async (database: string): Promise<Client> => {
    const client = new Client({ host: "127.0.0.1", port, user: "app", password, database });
    await client.connect();
    return client;
  };
  const admin = await connect("postgres");
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
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async restart(downMs: number) {
      ctl("stop", ["-m", "immediate"]);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      ctl("start");
    },
    async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
      const client = await connect("app");
      try {
        return (await client.query<T>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
  };
}

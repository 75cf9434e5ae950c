/** Runs the built app (dist/server.js) as a real child process, as systemd would. */
import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./kafka";

export interface AppProcessOptions {
  nodeName: string;
  port: number;
  pg: { host: string; port: number; user: string; password: string; database: string };
  kafkaBrokers: string;
  logDir: string;
  env?: Record<string, string>;
}

export interface AppProcess {
  nodeName: string;
  url: string;
  start(): Promise<void>;
  /** Sends the signal and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  running(): boolean;
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function appEnv(opts: AppProcessOptions): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    NODE_NAME: opts.nodeName,
    HOST: "127.0.0.1",
    PORT: String(opts.port),
    PG_HOST: opts.pg.host,
    PG_PORT: String(opts.pg.port),
    PG_DATABASE: opts.pg.database,
    PG_USER: opts.pg.user,
    PG_PASSWORD: opts.pg.password,
    KAFKA_BROKERS: opts.kafkaBrokers,
    KAFKA_TOPIC: "messages",
    LOG_LEVEL: "info",
    ...opts.env,
  };
}

export function createAppProcess(opts: AppProcessOptions): AppProcess {
  const url = `http://127.0.0.1:${opts.port}`;
  const serverJs = join(repoRoot(), "app/dist/server.js");
  let child: ChildProcess | undefined;
  return {
    nodeName: opts.nodeName,
    url,
    async start() {
      const out = openSync(join(opts.logDir, `${opts.nodeName}.log`), "a");
      child = spawn(process.execPath, [serverJs], {
        env: appEnv(opts),
        stdio: ["ignore", out, out],
      });
      const started = child;
      await waitFor(
        `${opts.nodeName} /healthz`,
        async () => {
          if (started.exitCode !== null)
            throw new Error(`${opts.nodeName} exited ${started.exitCode}`);
          return (await fetch(`${url}/healthz`)).ok;
        },
        20000,
      );
    },
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) {
        return running?.exitCode ?? null;
      }
      const exited = new Promise<number | null>((r) => running.once("exit", (code) => r(code)));
      running.kill(signal);
      const timer = setTimeout(() => running.kill("SIGKILL"), 30000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
  };
}

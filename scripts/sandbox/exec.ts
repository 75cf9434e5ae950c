import { spawn } from "child_process";
import * as fs from "fs";

export interface RunOptions {
  readonly stdin?: string | Buffer;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly logFile?: string; // stdout and stderr are appended here as they come
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program without a shell; resolves with its exit code and output (never rejects on exit code). */
export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: "pipe" });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const log = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: "a" }) : undefined;
    // The run is over only when its log is closed: the caller may remove the log's directory next.
    let logError: Error | undefined;
    const logClosed = new Promise<void>((done) => {
      if (!log) return done();
      log.on("error", (e) => (logError = e));
      log.on("close", () => done());
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          err.push(Buffer.from(`\n[sandbox] timed out after ${opts.timeoutMs} ms\n`));
          child.kill("SIGKILL");
        }, opts.timeoutMs)
      : undefined;
    child.stdout.on("data", (d: Buffer) => {
      out.push(d);
      log?.write(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      err.push(d);
      log?.write(d);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      log?.end();
      void logClosed.then(() => {
        if (logError) return reject(new Error(`log ${opts.logFile}: ${logError.message}`));
        resolve({
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        });
      });
    });
    child.stdin.on("error", () => undefined); // a program that exits without reading stdin
    child.stdin.end(opts.stdin ?? "");
  });
}

/** Like run, but throws with the command line and the tail of its output when it fails. */
export async function runChecked(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${result.code}:\n${tail(result.stderr + result.stdout, 20)}`,
    );
  }
  return result;
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

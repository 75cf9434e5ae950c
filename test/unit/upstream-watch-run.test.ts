import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import {
  renderUpstreamWatchScript,
  type WatchedUpstream,
} from "../../components/render/upstreamWatch";

/** A loopback port with a listener, or one that refuses (bound, then closed). */
async function port(listening: boolean): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port: p } = server.address() as net.AddressInfo;
  if (!listening) await new Promise((r) => server.close(r));
  return { port: p, close: () => server.close() };
}

/**
 * Runs the rendered loop with `ss` replaced by a stub that logs its arguments and reports one
 * ended connection; resolves with the loop's output and the stub's log once `until` shows up.
 */
async function runWatch(
  upstreams: WatchedUpstream[],
  until: RegExp,
): Promise<{ out: string; ssCalls: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "upstream-watch-"));
  const log = path.join(dir, "ss.log");
  fs.writeFileSync(
    path.join(dir, "ss"),
    `#!/bin/sh\necho "$*" >>"${log}"\necho header\necho connection\n`,
    { mode: 0o755 },
  );
  const script = renderUpstreamWatchScript({
    upstreams,
    intervalMs: 20,
    timeoutMs: 5000,
    failures: 2,
  });
  const child = spawn("bash", ["-c", script], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ""}` },
    detached: true,
  });
  let out = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${until} in: ${out}`)), 30_000);
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (until.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("exit", (code) => reject(new Error(`the loop ended (${code}): ${out}`)));
    });
  } finally {
    if (child.pid) process.kill(-child.pid, "SIGKILL");
  }
  const ssCalls = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
  fs.rmSync(dir, { recursive: true, force: true });
  return { out, ssCalls };
}

describe("the upstream watch, run", function () {
  this.timeout(60_000);

  it("ends the connections of the node that stopped answering, not the other's", async () => {
    const up = await port(true);
    const down = await port(false);
    try {
      const { ssCalls } = await runWatch(
        [
          { name: "a", host: "127.0.0.1", port: up.port },
          { name: "b", host: "127.0.0.1", port: down.port },
        ],
        /b silent for 2 probes: ended 1 connections/,
      );
      assert.match(ssCalls, new RegExp(`dst 127\\.0\\.0\\.1 dport = :${down.port}\\b`));
      assert.doesNotMatch(ssCalls, new RegExp(`dport = :${up.port}\\b`));
    } finally {
      up.close();
    }
  });

  it("ends nothing when no node answers (the LB's own link or a stall)", async () => {
    const a = await port(false);
    const b = await port(false);
    const { out, ssCalls } = await runWatch(
      [
        { name: "a", host: "127.0.0.1", port: a.port },
        { name: "b", host: "127.0.0.1", port: b.port },
      ],
      /every node silent: no connection ended/,
    );
    assert.equal(ssCalls, "");
    assert.doesNotMatch(out, /ended \d+ connections/);
  });
});

import * as assert from "assert";
import { execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { payloadNames, renderPayload, renderVars } from "../../components/render/payload";

/** Runs a rendered payload with bash in a scratch dir; returns status and output. */
function runBash(script: string, env: Record<string, string> = {}) {
  const result = spawnSync("bash", ["-c", script], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    timeout: 30000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("payload: renderPayload", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "payload-test-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("quotes any value so bash reads back exactly the same text", () => {
    const values = [
      "plain",
      "it's",
      "a'b'c",
      "$HOME `id` $(id) \\n",
      "line1\nline2\n",
      "ümlaut ✓",
      "",
    ];
    values.forEach((value, i) => {
      const script = `${renderVars({ V: value })}\nprintf '%s' "$V"`;
      const out = runBash(script);
      assert.strictEqual(out.status, 0, out.stderr);
      assert.strictEqual(out.stdout, value, `value ${i}`);
    });
  });

  it("puts strict mode before the variables, then lib.sh, then the body", () => {
    const text = renderPayload("ready", { APT_SOURCES: "" });
    const lines = text.split("\n");
    assert.strictEqual(lines[0], "#!/usr/bin/env bash");
    assert.ok(text.indexOf("set -Eeuo pipefail") < text.indexOf("readonly APT_SOURCES=''"));
    assert.ok(text.indexOf("# --- lib.sh ---") < text.indexOf("# --- ready.sh ---"));
    assert.strictEqual(text.match(/set -Eeuo pipefail/g)?.length, 1);
  });

  it("renders every payload as valid bash", () => {
    const names = payloadNames();
    assert.ok(names.length >= 12, names.join(" "));
    for (const name of names) {
      const file = path.join(dir, `${name}.sh`);
      fs.writeFileSync(file, renderPayload(name, { PAYLOAD_NAME: name }));
      execFileSync("bash", ["-n", file]);
    }
  });

  it("rejects bad names with the bad value", () => {
    assert.throws(
      () => renderVars({ "bad-name": "x" }),
      /payload variable name is invalid \(got "bad-name"\)/,
    );
    assert.throws(() => renderPayload("nope"), /payload "nope" not found/);
  });

  it("write_file writes only on change and marks the unit for restart", () => {
    const target = path.join(dir, "etc", "x.conf");
    const owner = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
    const lib = renderPayload("fetch-artifact", {}).split("# --- fetch-artifact.sh ---")[0];
    const env = { PVE_HA_RESTART_DIR: path.join(dir, "restart") };
    const write = (content: string) =>
      runBash(
        `${lib}\nprintf '%s' '${content}' | write_file '${target}' 0640 ${owner} demo.service`,
        env,
      );
    assert.strictEqual(write("a=1\n").stdout.trim(), "changed");
    assert.ok(fs.existsSync(path.join(dir, "restart", "demo.service")));
    fs.rmSync(path.join(dir, "restart", "demo.service"));
    assert.strictEqual(write("a=1\n").stdout.trim(), "unchanged");
    assert.ok(!fs.existsSync(path.join(dir, "restart", "demo.service")));
    assert.strictEqual(write("a=2\n").stdout.trim(), "changed");
    assert.strictEqual(fs.readFileSync(target, "utf8"), "a=2\n");
    assert.strictEqual(fs.statSync(target).mode & 0o777, 0o640);
  });

  it("ensure_service starts, restarts or reloads as marked and asked", () => {
    const calls = path.join(dir, "systemctl.calls");
    // A stand-in systemctl (a function wins over PATH): records each call; `is-active` and
    // `is-failed` answer from FAKE_ACTIVE and FAKE_FAILED.
    const fake = `systemctl() {
      echo "$*" >>'${calls}'
      case "$1" in is-active) [[ "$FAKE_ACTIVE" == 1 ]] ;; is-failed) [[ "$FAKE_FAILED" == 1 ]] ;; esac
    }`;
    const lib = renderPayload("fetch-artifact", {}).split("# --- fetch-artifact.sh ---")[0];
    const restartDir = path.join(dir, "restart-svc");
    const run = (marked: boolean, active: boolean, how: string, failed = false): string[] => {
      fs.rmSync(calls, { force: true });
      fs.mkdirSync(restartDir, { recursive: true });
      if (marked) fs.writeFileSync(path.join(restartDir, "web"), "");
      const r = runBash(`${lib}\n${fake}\nensure_service web ${how}`, {
        PVE_HA_RESTART_DIR: restartDir,
        FAKE_ACTIVE: active ? "1" : "0",
        FAKE_FAILED: failed ? "1" : "0",
      });
      assert.strictEqual(r.status, 0, r.stderr);
      assert.ok(!fs.existsSync(path.join(restartDir, "web")), "marker cleared");
      return fs
        .readFileSync(calls, "utf8")
        .trim()
        .split("\n")
        .filter((c) => !/^(daemon-reload|enable|is-active|is-failed)/.test(c));
    };
    assert.deepStrictEqual(run(true, true, "reload"), ["reload web"]);
    assert.deepStrictEqual(run(true, false, "reload"), ["restart web"]);
    assert.deepStrictEqual(run(true, true, ""), ["restart web"]);
    assert.deepStrictEqual(run(false, true, "reload"), ["start web"]);
    // A unit its start limit left failed (a crash loop) is reset before a deploy starts it.
    assert.deepStrictEqual(run(false, false, "", true), ["reset-failed web", "start web"]);
  });

  it("wait_http_ready waits for a 200 whose body has every needle, and names the last answer", async () => {
    // A separate process answers while the synchronous bash runs: 503 for the first request,
    // then 200 with a readiness body whose consumer is not ok on /partial.
    const responder = spawn(process.execPath, [
      "-e",
      `let n = 0;
       const s = require("http").createServer((q, r) => {
         n++;
         if (n === 1) return r.writeHead(503).end('{"ready":false}');
         const consumer = q.url === "/partial" ? "joining" : "ok";
         r.writeHead(200).end(JSON.stringify({ ready: true, database: "ok", consumer }));
       });
       s.listen(0, "127.0.0.1", () => console.log(s.address().port));`,
    ]);
    try {
      const port = await new Promise<string>((resolve) =>
        responder.stdout.once("data", (d: Buffer) => resolve(d.toString().trim())),
      );
      const lib = renderPayload("fetch-artifact", {}).split("# --- fetch-artifact.sh ---")[0];
      const wait = (urlPath: string, timeout: number) =>
        runBash(
          `${lib}\nwait_http_ready 127.0.0.1 ${port} ${urlPath} ${timeout} '"database":"ok"' '"consumer":"ok"'`,
        );
      const ok = wait("/readyz", 10);
      assert.strictEqual(ok.status, 0, ok.stderr);
      const partial = wait("/partial", 1);
      assert.notStrictEqual(partial.status, 0);
      assert.match(
        partial.stderr,
        /GET \/partial on 127\.0\.0\.1:\d+ not ready after 1s; last answer: \{"ready":true,"database":"ok","consumer":"joining"\}/,
      );
    } finally {
      responder.kill();
    }
  });

  it("fetch_artifact checks the digest of a download", () => {
    const src = path.join(dir, "artifact.bin");
    fs.writeFileSync(src, "artifact content");
    const sha = crypto.createHash("sha256").update("artifact content").digest("hex");
    const lib = renderPayload("fetch-artifact", {}).split("# --- fetch-artifact.sh ---")[0];
    const fetch = (digest: string) =>
      runBash(`${lib}\nfetch_artifact '${dir}/out/a.bin' '' 'file://${src}' '${digest}' ''`);
    const bad = fetch("0".repeat(64));
    assert.notStrictEqual(bad.status, 0);
    assert.match(bad.stderr, /checksum mismatch/);
    assert.ok(!fs.existsSync(path.join(dir, "out", "a.bin")));
    const good = fetch(sha);
    assert.strictEqual(good.status, 0, good.stderr);
    assert.strictEqual(fs.readFileSync(path.join(dir, "out", "a.bin"), "utf8"), "artifact content");
  });

  it("unpack-tarball replaces the target once per tarball", () => {
    fs.mkdirSync(path.join(dir, "src", "node-v1", "bin"), { recursive: true });
    fs.writeFileSync(path.join(dir, "src", "node-v1", "bin", "node"), "#!/bin/sh\n");
    execFileSync("tar", [
      "-czf",
      path.join(dir, "node.tgz"),
      "-C",
      path.join(dir, "src"),
      "node-v1",
    ]);
    const script = renderPayload("unpack-tarball", {
      TARBALL: path.join(dir, "node.tgz"),
      TARGET_DIR: path.join(dir, "opt", "node"),
      CHECK_PATH: "bin/node",
      RESTART_UNIT: "app.service",
    });
    const env = { PVE_HA_RESTART_DIR: path.join(dir, "restart") };
    const first = runBash(script, env);
    assert.strictEqual(first.status, 0, first.stderr);
    assert.match(first.stdout, /^changed: /);
    assert.ok(fs.existsSync(path.join(dir, "opt", "node", "bin", "node")));
    assert.ok(fs.existsSync(path.join(dir, "restart", "app.service")));
    const second = runBash(script, env);
    assert.match(second.stdout, /^unchanged: /);
  });
});

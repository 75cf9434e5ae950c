/**
 * How the drills reach what the containers' firewalls keep from this machine: an app node's own
 * port from inside an allowed node, SQL through HAProxy from an app node.
 */
import { strict as assert } from "node:assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as vm from "node:vm";
import { APP_DIR } from "../../components/render/app";
import { parseStackOutputs, type StackOutputs } from "../../scripts/drill/outputs";
import { exampleOutputs } from "../../scripts/drill/fixtures/example-outputs";
import type { DrillContext } from "../../scripts/drill/runtime/context";
import { APP_SQL_JS, haproxyClient } from "../../scripts/drill/runtime/db";
import { appClientNode, appNodeGet } from "../../scripts/drill/runtime/nodeHttp";
import type { Pct } from "../../scripts/drill/runtime/pct";

function contextOf(outputs: StackOutputs, pct: Pct): DrillContext {
  const node = (name: string) => outputs.nodes.find((n) => n.name === name)!;
  return {
    outputs,
    pct,
    appNodes: [node("webserver1"), node("webserver2")],
    pgStandby: node("pg2"),
    pgPrimary: node("pg1"),
    pgProxy: node("pgproxy"),
  } as unknown as DrillContext;
}

function outputsWith(settings: Record<string, unknown>, lbPair = true): StackOutputs {
  const raw = exampleOutputs(null, lbPair) as { settings: Record<string, unknown> };
  raw.settings = { ...raw.settings, ...settings };
  return parseStackOutputs(JSON.stringify(raw));
}

describe("drill: paths behind the containers' firewalls", () => {
  it("asks an app node's own port from inside the monitor (else an LB) when firewalled", async () => {
    const calls: string[][] = [];
    const pct: Pct = {
      run: async (args) => {
        calls.push([...args]);
        return {
          code: 0,
          stdout: "HTTP/1.1 200 OK\r\nX-Served-By: webserver1\r\n\r\n{}",
          stderr: "",
          ms: 1,
        };
      },
    };
    const ctx = contextOf(outputsWith({ containerFirewall: true }), pct);
    const reply = await appNodeGet(ctx, ctx.appNodes[0], "/readyz");
    assert.deepStrictEqual([reply.status, reply.servedBy], [200, "webserver1"]);
    const monitor = ctx.outputs.nodes.find((n) => n.name === "monitor")!;
    assert.deepStrictEqual(calls[0].slice(0, 5), [
      "exec",
      String(monitor.vmid),
      "--",
      "bash",
      "-c",
    ]);
    assert.match(
      calls[0][5],
      new RegExp(`/dev/tcp/${ctx.appNodes[0].ip.replace(/\./g, "\\.")}/3000`),
    );
    assert.match(calls[0][5], /GET \/readyz HTTP\/1\.0/);
    assert.strictEqual(appClientNode(ctx, new Set(["monitor"])).name, "lb");
    assert.throws(() => appClientNode(ctx, new Set(["monitor", "lb", "lb2"])), /no monitor or LB/);
  });

  it("asks it directly while the containers have no firewall", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "X-Served-By": "direct" });
      res.end("ok");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const pct: Pct = { run: async () => assert.fail("no pct without a firewall") };
      const ctx = contextOf(outputsWith({ containerFirewall: false, appPort: port }), pct);
      const local = { ...ctx.appNodes[0], ip: "127.0.0.1" };
      const reply = await appNodeGet(ctx, local, "/readyz");
      assert.deepStrictEqual([reply.status, reply.servedBy], [200, "direct"]);
    } finally {
      server.close();
    }
  });

  it("sends SQL through HAProxy from an app node when firewalled, from the standby otherwise", () => {
    const pct: Pct = { run: async () => assert.fail("not run") };
    assert.strictEqual(
      haproxyClient(contextOf(outputsWith({ containerFirewall: true }), pct)).name,
      "webserver1",
    );
    assert.strictEqual(
      haproxyClient(contextOf(outputsWith({ containerFirewall: false }), pct)).name,
      "pg2",
    );
    // The app node's script: valid JavaScript, the bundle's own pg driver, nothing secret in it.
    assert.doesNotThrow(() => new vm.Script(APP_SQL_JS));
    assert.ok(APP_SQL_JS.includes(JSON.stringify(`${APP_DIR}/node_modules/pg`)));
    assert.ok(!/password/i.test(APP_SQL_JS.replace(/connection/g, "")));
  });
});

import { strict as assert } from "node:assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runLoad, servedByHeader } from "../../scripts/drill/runtime/load";

/** A real HTTP server on loopback answering like two app nodes behind round robin. */
function startServer(): Promise<{ server: Server; url: string; bodies: string[] }> {
  const bodies: string[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const node = n++ % 2 === 0 ? "webserver1" : "webserver2";
      if (req.method === "POST") bodies.push(`${req.headers["idempotency-key"]} ${body}`);
      const status = req.url === "/fail" && n % 10 === 0 ? 503 : req.method === "POST" ? 202 : 200;
      res.writeHead(status, { "X-Served-By": node, "content-type": "application/json" });
      res.end("{}");
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        bodies,
      });
    }),
  );
}

describe("drill load runner (autocannon against a loopback server)", function () {
  this.timeout(20_000);
  it("counts every response and the node that served it", async () => {
    const { server, url } = await startServer();
    try {
      const run = await runLoad({ label: "t", url, method: "GET", connections: 4, amount: 200 });
      assert.equal(run.summary.requests, 200);
      assert.equal(run.summary.ok, 200);
      assert.equal(run.summary.successPct, 100);
      assert.deepEqual(run.summary.servedBy, { webserver1: 100, webserver2: 100 });
      assert.equal(run.responses.length, 200);
      assert.ok(run.summary.p99Ms !== null && run.summary.p99Ms >= 0);
    } finally {
      server.close();
    }
  });

  it("posts a unique idempotency key per request and records the acknowledged ones", async () => {
    const { server, url, bodies } = await startServer();
    try {
      const run = await runLoad({
        label: "w",
        url: `${url}/messages`,
        method: "POST",
        connections: 2,
        amount: 50,
        post: (n) => ({ uid: `key-${String(n).padStart(4, "0")}`, body: `m${n}` }),
      });
      assert.equal(run.acked.length, 50);
      assert.equal(new Set(run.acked.map(([, uid]) => uid)).size, 50);
      assert.ok(bodies.includes('key-0007 {"body":"m7"}'));
    } finally {
      server.close();
    }
  });

  it("counts non-2xx answers and transport errors as failures", async () => {
    const { server, url } = await startServer();
    try {
      const run = await runLoad({
        label: "f",
        url: `${url}/fail`,
        method: "GET",
        connections: 1,
        amount: 30,
      });
      assert.equal(run.summary.non2xx, 3);
      assert.equal(run.summary.ok, 27);
    } finally {
      server.close();
    }
    const closed = await runLoad({
      label: "c",
      url,
      method: "GET",
      connections: 1,
      durationS: 1,
      timeoutS: 1,
    });
    assert.equal(closed.summary.ok, 0);
    assert.ok(closed.summary.errors > 0);
    assert.ok(closed.responses.every(([, status]) => status === 0));
  });

  it("reads X-Served-By whatever its spelling", () => {
    assert.equal(servedByHeader({ "X-Served-By": "a" } as never), "a");
    assert.equal(servedByHeader({ "x-served-by": ["b", "c"] }), "b");
    assert.equal(servedByHeader(undefined), undefined);
  });
});

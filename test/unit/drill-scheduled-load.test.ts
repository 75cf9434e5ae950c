import { strict as assert } from "assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { newRecorder } from "../../scripts/drill/runtime/load";
import { runScheduledLoad } from "../../scripts/drill/runtime/scheduledLoad";

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

const spec = (url: string) => ({
  label: "test",
  url,
  method: "POST" as const,
  connections: 4,
  overallRate: 50,
  durationS: 0.4,
  timeoutS: 5,
  post: (n: number) => ({ uid: `uid-${n}`, body: `#${n}` }),
});

describe("drill: the open-loop (scheduled) load", () => {
  it("sends every scheduled request once and records the acknowledged ones", async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(String(req.headers["idempotency-key"]));
      req.resume();
      req.on("end", () => res.writeHead(202, { "x-served-by": "node-a" }).end("{}"));
    });
    const port = await listen(server);
    try {
      const rec = newRecorder();
      const run = await runScheduledLoad(spec(`http://127.0.0.1:${port}/messages`), rec);
      assert.equal(run.summary.requests, 20);
      assert.equal(run.summary.ok, 20);
      assert.deepEqual(run.summary.servedBy, { "node-a": 20 });
      assert.equal(rec.acked.length, 20);
      assert.deepEqual([...seen].sort(), [...rec.sent].sort());
    } finally {
      server.close();
    }
  });

  it("counts a refused connection as one failed request, with when it was sent", async () => {
    const server = http.createServer();
    const port = await listen(server);
    await new Promise((r) => server.close(r));
    const rec = newRecorder();
    const run = await runScheduledLoad(spec(`http://127.0.0.1:${port}/messages`), rec);
    assert.equal(run.summary.requests, 20);
    assert.equal(run.summary.errors, 20);
    assert.deepEqual(rec.failures, { ECONNREFUSED: 20 });
    assert.equal(rec.failedSentAt?.length, 20);
    assert.equal(rec.acked.length, 0);
  });

  it("sends nothing more once stopWhen is true, with durationS as its bound", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(202).end("{}"));
    });
    const port = await listen(server);
    try {
      const rec = newRecorder();
      // Deterministic under CPU load: stop after the 5th request was sent, whatever the clock.
      const run = await runScheduledLoad(
        {
          ...spec(`http://127.0.0.1:${port}/messages`),
          durationS: 60,
          stopWhen: () => rec.sent.length >= 5,
        },
        rec,
      );
      assert.equal(run.summary.requests, 5);
      assert.equal(rec.acked.length, 5);
    } finally {
      server.close();
    }
  });
});

import { strict as assert } from "assert";
import { lbView, lbViewText, parseLbLogLine } from "../../scripts/drill/parse/nginxLog";

const line = (time: string, status: number, rt: string, upstream = "10.0.0.11:3000"): string =>
  `10.0.0.1 [${time} +0000] "POST /messages HTTP/1.1" ${status} 79 upstream=${upstream} upstream_status=${status} rt=${rt} urt=${rt}`;

describe("drill: the LB's access-log view of a fault run", () => {
  it("parses a line of the `upstream` log format, time zone included", () => {
    const l = parseLbLogLine(
      `10.0.0.1 [30/Nov/2026:16:34:17 +0100] "POST /messages HTTP/1.1" 202 79 upstream=10.0.0.12:3000 upstream_status=202 rt=6.326 urt=6.326`,
    );
    assert.ok(l);
    assert.equal(l.atS, Date.UTC(2026, 10, 30, 15, 34, 17) / 1000);
    assert.deepEqual(
      [l.method, l.path, l.status, l.requestTimeS],
      ["POST", "/messages", 202, 6.326],
    );
    assert.equal(parseLbLogLine("not a log line"), null);
  });

  it("counts the window's POSTs by status and names the slowest", () => {
    const from = Date.UTC(2026, 10, 30, 16, 0, 0) / 1000;
    const log = [
      line("30/Nov/2026:15:59:59", 202, "0.010"), // before the window
      line("30/Nov/2026:16:00:01", 202, "0.012"),
      line("30/Nov/2026:16:00:20", 503, "12.004", "10.0.0.12:3000"),
      line("30/Nov/2026:16:00:21", 202, "2.500"),
      `10.0.0.1 [30/Nov/2026:16:00:22 +0000] "GET / HTTP/1.1" 200 9 upstream=- upstream_status=- rt=0.001 urt=-`,
    ].join("\n");
    const v = lbView(log, "/messages", from, from + 60);
    assert.deepEqual(v.byStatus, { 202: 2, 503: 1 });
    assert.equal(v.requests, 3);
    assert.equal(v.slowestS, 12.004);
    assert.equal(v.lastFinishedAtS, 21);
    assert.match(
      lbViewText(v),
      /3 POSTs \(202×2 503×1\), slowest 12\.0 s via 10\.0\.0\.12:3000 \(503\), last finished at \+21 s/,
    );
    assert.equal(
      lbViewText(lbView("", "/messages", from, from + 60)),
      "the LB logged no POST in the window",
    );
  });
});

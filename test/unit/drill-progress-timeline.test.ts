import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { writeTimeline } from "../../scripts/drill/chart/png";
import {
  bucketResponses,
  niceMax,
  renderTimelineSvg,
  type TimelineData,
} from "../../scripts/drill/chart/timeline";
import {
  ackedBy,
  lagSeries,
  longestStall,
  maxLag,
  resumedAfterSeconds,
} from "../../scripts/drill/progress";
import type { ProgressSample } from "../../scripts/drill/types";

/** A broker stop at 10 s: acks keep coming, storing stands still from 10 s to 16 s, then catches up. */
function brokerStopSamples(): ProgressSample[] {
  const out: ProgressSample[] = [];
  let stored = 0;
  for (let s = 0; s <= 30; s++) {
    const acked = Math.min(s, 25) * 10;
    if (s < 10) stored = acked;
    else if (s >= 16) stored = Math.min(acked, stored + 40);
    out.push([s * 1000, acked, stored]);
  }
  return out;
}

describe("drill progress figures", () => {
  it("computes lag, its maximum and the acked count at a time", () => {
    const s = brokerStopSamples();
    assert.deepEqual(
      lagSeries([
        [0, 5, 7],
        [1000, 9, 4],
      ]),
      [
        [0, 0],
        [1000, 5],
      ],
    );
    assert.equal(maxLag(s), 60);
    assert.equal(ackedBy([100, 200, 300], 200), 2);
  });

  it("finds the consumption pause after the fault and when it resumed", () => {
    const stall = longestStall(brokerStopSamples(), 10_000);
    assert.deepEqual(stall, { startMs: 9000, endMs: 16_000, resumed: true });
    assert.equal(resumedAfterSeconds(brokerStopSamples(), 10_000), 6);
  });

  it("counts no pause in a steady flow and 0 s recovery when the lag stays low", () => {
    const steady: ProgressSample[] = Array.from({ length: 10 }, (_, i) => [
      i * 1000,
      i * 10,
      i * 10,
    ]);
    assert.deepEqual(longestStall(steady), null);
    assert.equal(resumedAfterSeconds(steady, 3000), 0);
  });

  it("reports a stall that never resumed and no recovery", () => {
    const stuck: ProgressSample[] = [
      [0, 0, 0],
      [1000, 10, 10],
      [2000, 20, 10],
      [3000, 30, 10],
    ];
    assert.deepEqual(longestStall(stuck), { startMs: 1000, endMs: 3000, resumed: false });
    assert.equal(resumedAfterSeconds(stuck, 1500), null);
  });
});

describe("drill timeline chart", () => {
  const data: TimelineData = {
    title: "Failover: webserver1 <stop> & start",
    durationMs: 5000,
    responses: [
      [100, 202],
      [900, 202],
      [1500, 202],
      [2100, 0],
      [2200, 502],
      [4999, 202],
      [7000, 202],
    ],
    lag: [
      [0, 0],
      [1000, 1],
      [2000, 4],
      [3000, 0],
    ],
    events: [{ t: 2000, label: "pct stop webserver1" }],
  };

  it("buckets responses per second into successes and failures", () => {
    assert.deepEqual(bucketResponses(data.responses, 5000), {
      t: [0, 1, 2, 3, 4],
      ok: [2, 1, 0, 0, 2],
      errors: [0, 0, 2, 0, 0],
    });
    assert.deepEqual(bucketResponses([[250, 200]], 1000, 500).ok, [2, 0]);
    assert.equal(niceMax(0), 1);
    assert.equal(niceMax(37), 50);
    assert.equal(niceMax(120), 200);
  });

  it("renders a self-contained SVG with series, error bars and escaped labels", () => {
    const svg = renderTimelineSvg(data);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /Failover: webserver1 &lt;stop&gt; &amp; start/);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
    assert.equal((svg.match(/fill="#c62828" fill-opacity/g) ?? []).length, 1);
    assert.match(svg, /pct stop webserver1/);
    assert.doesNotMatch(svg, /NaN|undefined/);
    const empty = renderTimelineSvg({
      title: "t",
      durationMs: 0,
      responses: [],
      lag: [],
      events: [],
    });
    assert.doesNotMatch(empty, /NaN|Infinity/);
  });

  it("converts the SVG to a PNG with rsvg-convert", function () {
    if (spawnSync("rsvg-convert", ["--version"]).status !== 0) {
      throw new Error("rsvg-convert is missing: apt-get install librsvg2-bin");
    }
    const dir = mkdtempSync(path.join(tmpdir(), "drill-chart-"));
    try {
      const files = writeTimeline(data, path.join(dir, "timeline"));
      assert.equal(files.warning, undefined);
      const png = readFileSync(files.png ?? "");
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(png.readUInt32BE(16), 960);
      assert.equal(png.readUInt32BE(20), 520);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

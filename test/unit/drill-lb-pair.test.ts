import { strict as assert } from "assert";
import { lbPairChecks, lbPairTrialChecks } from "../../scripts/drill/conditions";
import { lbPairTrial } from "../../scripts/drill/fixtures/results";
import {
  holdersSeen,
  hostSwitchedAfterMs,
  lbPairTrials,
  longestDualHolderMs,
  neighbourMac,
  parseLbNodeView,
  vipMovedAfterMs,
  type HolderSample,
} from "../../scripts/drill/lbPair/plan";
import { lbPairSection } from "../../scripts/drill/report/lbPair";
import { passingResults } from "../../scripts/drill/fixtures/results";

const sample = (at: number, holders: string[], hostSees: string | null = null): HolderSample => ({
  at,
  holders,
  hostSees,
});

describe("drill scenario 10: the LB pair", () => {
  it("plans every fault kind per trial, interleaved", () => {
    assert.deepEqual(
      lbPairTrials(2).map((t) => t.id),
      [
        "lbpair-sigkill-nginx-1",
        "lbpair-stop-1",
        "lbpair-link-down-1",
        "lbpair-sigkill-nginx-2",
        "lbpair-stop-2",
        "lbpair-link-down-2",
      ],
    );
  });

  it("reads whether a node holds the VIP on an up link", () => {
    const addr = `up\n2: eth0    inet 10.0.0.10/24 brd 10.0.0.255 scope global eth0\n2: eth0    inet 10.0.0.254/24 scope global secondary eth0`;
    assert.deepEqual(parseLbNodeView(addr, "10.0.0.254"), { linkUp: true, hasVip: true });
    assert.deepEqual(parseLbNodeView(addr, "10.0.0.25"), { linkUp: true, hasVip: false });
    assert.deepEqual(parseLbNodeView(addr.replace(/^up/, "down"), "10.0.0.254"), {
      linkUp: false,
      hasVip: true,
    });
    assert.equal(
      neighbourMac("10.0.0.254 dev br0 lladdr 02:50:AB:00:00:c8 REACHABLE"),
      "02:50:ab:00:00:c8",
    );
    assert.equal(neighbourMac("10.0.0.254 dev br0 FAILED"), null);
  });

  it("derives the move, the host's switch and two-holder stretches from the polls", () => {
    const s = [
      sample(1000, ["lb"], "lb"),
      sample(1200, [], "lb"),
      sample(1400, ["lb2"], "lb"),
      sample(1600, ["lb2"], "lb2"),
      sample(5000, ["lb", "lb2"], "lb2"),
      sample(5200, ["lb", "lb2"], "lb2"),
      sample(5400, ["lb2"], "lb2"),
    ];
    assert.equal(vipMovedAfterMs(s, "lb", 1100), 300);
    assert.equal(hostSwitchedAfterMs(s, "lb", 1100), 500);
    assert.equal(vipMovedAfterMs(s.slice(0, 2), "lb", 1100), null);
    assert.equal(longestDualHolderMs(s, 4000), 400);
    assert.equal(longestDualHolderMs(s, 5300), 0);
    assert.deepEqual(holdersSeen(s, 1100), ["lb2", "lb"]);
  });

  it("passes a clean failover and names what a failing one missed", () => {
    assert.ok(lbPairTrialChecks(lbPairTrial("stop", 1), 500).every((c) => c.pass));
    const slow = { ...lbPairTrial("link-down", 1), vipMovedS: 3.6 };
    const failing = lbPairTrialChecks(slow, 500).filter((c) => !c.pass);
    assert.deepEqual(
      failing.map((c) => c.name),
      ["LB pair link-down #1: VIP on the other LB within 3 s"],
    );
    assert.match(failing[0].detail, /lb -> lb2 after 3\.6 s/);
    const tookBack = { ...lbPairTrial("stop", 2), holdersAtEnd: ["lb"] };
    assert.ok(lbPairTrialChecks(tookBack, 500).some((c) => !c.pass && /VIP stays/.test(c.name)));
    const many = lbPairTrial("sigkill-nginx", 1, 30);
    const late = lbPairTrialChecks(many, 500).find((c) => !c.pass);
    assert.match(late?.name ?? "", /failed only until the VIP moved/);
    assert.match(
      late?.detail ?? "",
      /30\/700 failed .*ECONNREFUSED ×30; sent 0\.1-4\.5 s after the fault/,
    );
    const dual = { ...lbPairTrial("link-down", 3), dualHolderAfterHealMs: 1400 };
    assert.ok(lbPairTrialChecks(dual, 500).some((c) => !c.pass && /two VIP holders/.test(c.name)));
  });

  it("has no checks and says why when the stack has one LB", () => {
    const one = {
      drilled: false,
      note: "the stack has one LB",
      trials: [],
      durationS: 0,
      advertIntervalMs: 500,
    };
    assert.deepEqual(lbPairChecks(one), []);
    const text = lbPairSection({ ...passingResults(), lbPair: one }).join("\n");
    assert.match(text, /Scenario 10 .*\n\nthe stack has one LB; no checks\./);
  });
});

import * as assert from "assert";
import { execFileSync } from "child_process";
import {
  renderUpstreamWatchScript,
  renderUpstreamWatchUnit,
  upstreamWatchDetectionMs,
  UPSTREAM_WATCH_SCRIPT_PATH,
  type UpstreamWatchOptions,
} from "../../components/render/upstreamWatch";
import { RESTART_POLICY } from "../../components/render/restartPolicy";

const OPTS: UpstreamWatchOptions = {
  upstreams: [
    { name: "webserver1", host: "10.0.0.11", port: 3000 },
    { name: "webserver2", host: "10.0.0.12", port: 3000 },
  ],
  intervalMs: 200,
  timeoutMs: 250,
  failures: 2,
};

describe("render: the LB's active check of the app nodes (upstream watch)", () => {
  const script = renderUpstreamWatchScript(OPTS);

  it("lists the nodes in one order in three arrays and the timings in seconds", () => {
    assert.match(script, /^readonly NAMES=\(webserver1 webserver2\)$/m);
    assert.match(script, /^readonly HOSTS=\(10\.0\.0\.11 10\.0\.0\.12\)$/m);
    assert.match(script, /^readonly PORTS=\(3000 3000\)$/m);
    assert.match(script, /^readonly INTERVAL_S=0\.200$/m);
    assert.match(script, /^readonly TIMEOUT_S=0\.250$/m);
    assert.match(script, /^readonly FAILURES=2$/m);
  });

  it("is valid bash with errexit and pipefail", () => {
    assert.match(script, /^set -Eeuo pipefail$/m);
    execFileSync("bash", ["-n"], { input: script });
  });

  it("ends only connections to the silent node's port, whatever their state", () => {
    assert.match(script, /ss -K -t -n dst "\$1" dport = ":\$2"/);
  });

  it("refuses what would break the script, naming the value", () => {
    const bad: Array<[Partial<UpstreamWatchOptions>, RegExp]> = [
      [{ upstreams: [] }, /upstreams must not be empty/],
      [
        { upstreams: [{ name: "a b", host: "10.0.0.1", port: 1 }] },
        /upstream name is invalid \(got "a b"\)/,
      ],
      [
        { upstreams: [{ name: "a", host: "$(reboot)", port: 1 }] },
        /upstream a host must be an IPv4 address \(got "\$\(reboot\)"\)/,
      ],
      [{ upstreams: [{ name: "a", host: "10.0.0.1", port: 0 }] }, /upstream a port is invalid/],
      [{ intervalMs: 0 }, /intervalMs must be a positive integer \(got 0\)/],
      [{ timeoutMs: 1.5 }, /timeoutMs must be a positive integer \(got 1.5\)/],
      [{ failures: -1 }, /failures must be a positive integer \(got -1\)/],
    ];
    for (const [change, message] of bad) {
      assert.throws(() => renderUpstreamWatchScript({ ...OPTS, ...change }), message);
    }
  });

  it("bounds the time to notice a silent node: failures x (timeout + interval)", () => {
    assert.strictEqual(upstreamWatchDetectionMs(OPTS), 900);
  });

  it("runs the script as a service with the stack's restart policy", () => {
    const unit = renderUpstreamWatchUnit();
    assert.match(unit, new RegExp(`^ExecStart=${UPSTREAM_WATCH_SCRIPT_PATH}$`, "m"));
    assert.match(unit, new RegExp(`^Restart=${RESTART_POLICY.restart}$`, "m"));
    assert.match(unit, /^WantedBy=multi-user\.target$/m);
  });
});

import { strict as assert } from "assert";
import {
  bridgeMacAddress,
  cidrsOverlap,
  findSubnetConflicts,
  formatIpv4,
  parseCidr,
  parseIpv4,
} from "../../scripts/sandbox/net-plan";

describe("sandbox net plan", () => {
  it("gives the bridge a fixed locally administered MAC derived from its gateway", () => {
    assert.equal(bridgeMacAddress("10.213.47.1"), "02:00:0a:d5:2f:01");
    assert.equal(bridgeMacAddress("192.168.100.254"), "02:00:c0:a8:64:fe");
  });

  it("parses and formats IPv4 addresses", () => {
    assert.equal(parseIpv4("10.213.47.1"), 10 * 2 ** 24 + 213 * 2 ** 16 + 47 * 256 + 1);
    assert.equal(formatIpv4(parseIpv4("255.0.10.7")), "255.0.10.7");
  });

  it("rejects bad addresses and CIDRs, naming the value", () => {
    assert.throws(() => parseIpv4("10.0.0.256"), /not an IPv4 address: "10.0.0.256"/);
    assert.throws(() => parseIpv4("10.0.0"), /not an IPv4 address: "10.0.0"/);
    assert.throws(() => parseCidr("10.0.0.0/33"), /not an IPv4 CIDR: "10.0.0.0\/33"/);
  });

  it("normalises a CIDR to its network and treats a bare address as /32", () => {
    assert.deepEqual(parseCidr("10.213.47.77/24"), {
      network: parseIpv4("10.213.47.0"),
      prefix: 24,
    });
    assert.deepEqual(parseCidr("192.0.2.2"), { network: parseIpv4("192.0.2.2"), prefix: 32 });
  });

  it("detects overlaps in both directions and none between neighbours", () => {
    assert.ok(cidrsOverlap(parseCidr("10.0.0.0/8"), parseCidr("10.213.47.0/24")));
    assert.ok(cidrsOverlap(parseCidr("10.213.47.0/24"), parseCidr("10.0.0.0/8")));
    assert.ok(!cidrsOverlap(parseCidr("10.213.47.0/24"), parseCidr("10.213.48.0/24")));
  });

  it("reports overlapping host routes and addresses, ignoring the default route and its own bridge", () => {
    const routes = [
      { dst: "default", dev: "eth0" },
      { dst: "192.0.2.0/24", dev: "eth0" },
      { dst: "10.213.0.0/16", dev: "tun0" },
      { dst: "10.213.47.5", dev: "wg0" },
      { dst: "10.213.47.0/24", dev: "pvehab0" },
    ];
    assert.deepEqual(findSubnetConflicts("10.213.47.0/24", routes, "pvehab0"), [
      "10.213.0.0/16 dev tun0",
      "10.213.47.5 dev wg0",
    ]);
    assert.deepEqual(findSubnetConflicts("10.213.47.0/24", routes.slice(0, 2), "pvehab0"), []);
  });
});

import { strict as assert } from "assert";
import { renderNodeFiles } from "../../scripts/sandbox/lxc";
import { vmidOfCommand } from "../../scripts/sandbox/perform-command";
import { readContainerInputs } from "../../scripts/sandbox/perform-container";
import { generatePassword } from "../../scripts/sandbox/perform-random";

describe("sandbox performers (pure parts)", () => {
  it("finds the container a pct command line talks to", () => {
    assert.equal(vmidOfCommand({ create: "pct exec 203 -- bash -s" }), "203");
    assert.equal(
      vmidOfCommand({ create: 'tmp=$(mktemp) && cat >"$tmp" && pct push 207 "$tmp" /etc/x' }),
      "207",
    );
    assert.equal(vmidOfCommand({ create: "echo hello" }), undefined);
    assert.equal(vmidOfCommand({}), undefined);
  });

  it("maps ContainerLegacy inputs onto an LXC node", () => {
    const c = readContainerInputs("pg1", {
      vmId: 203,
      initialization: {
        hostname: "pg1",
        ipConfigs: [{ ipv4: { address: "10.213.47.13/24", gateway: "10.213.47.1" } }],
        dns: { servers: ["10.213.47.1"] },
      },
      networkInterfaces: [{ name: "eth0", bridge: "pvehab0" }],
      memory: { dedicated: 2048 },
      cpu: { cores: 2 },
    });
    assert.deepEqual(c, {
      vmid: 203,
      hostname: "pg1",
      ipCidr: "10.213.47.13/24",
      gateway: "10.213.47.1",
      bridge: "pvehab0",
      memoryMb: 2048,
      cores: 2,
      dnsServers: ["10.213.47.1"],
      started: true,
    });
  });

  it("refuses a container without VMID or static address, naming the resource and value", () => {
    assert.throws(
      () => readContainerInputs("lb", { initialization: {} }),
      /ContainerLegacy lb: vmId is not set/,
    );
    assert.throws(
      () =>
        readContainerInputs("lb", {
          vmId: 200,
          initialization: { ipConfigs: [{ ipv4: { address: "dhcp" } }] },
        }),
      /ContainerLegacy lb: the sandbox needs a static IPv4 address\/prefix \(got dhcp\)/,
    );
  });

  it("writes hostname, hosts and resolv.conf like Proxmox does", () => {
    const f = renderNodeFiles("kafka1", "10.213.47.16", []);
    assert.equal(f.hostname, "kafka1\n");
    assert.match(f.hosts, /^10\.213\.47\.16\tkafka1$/m);
    assert.equal(f.resolvConf, "# no DNS\n");
    assert.equal(
      renderNodeFiles("a", "10.0.0.1", ["10.0.0.53"]).resolvConf,
      "nameserver 10.0.0.53\n",
    );
  });

  it("generates passwords of the asked length with lower, upper and digit, specials only if asked", () => {
    for (let i = 0; i < 50; i++) {
      const p = generatePassword(24, "");
      assert.equal(p.length, 24);
      assert.match(p, /[a-z]/);
      assert.match(p, /[A-Z]/);
      assert.match(p, /[0-9]/);
      assert.match(p, /^[A-Za-z0-9]+$/);
    }
    assert.notEqual(generatePassword(24, ""), generatePassword(24, ""));
    assert.throws(() => generatePassword(2, ""), /RandomPassword length out of range: 2/);
  });
});

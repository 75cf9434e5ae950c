import { strict as assert } from "assert";
import { LxcNodeSpec, macForVmid, renderLxcConfig } from "../../scripts/sandbox/lxc-config";

function spec(over: Partial<LxcNodeSpec> = {}): LxcNodeSpec {
  return {
    vmid: 203,
    hostname: "pg1",
    lowerRootfs: "/cache/rootfs",
    upperDir: "/state/lxc/203/upper",
    bridge: "pvehab0",
    ipCidr: "10.213.47.13/24",
    gateway: "10.213.47.1",
    memoryMb: 2048,
    cores: 2,
    cgroupVersion: 1,
    aptRepoDir: "/cache/apt-repo",
    aptRepoMountPoint: "/srv/apt",
    ...over,
  };
}

function lines(text: string): string[] {
  return text.trim().split("\n");
}

describe("sandbox LXC config", () => {
  it("puts the node on the sandbox bridge with its static address, gateway and overlay rootfs", () => {
    const l = lines(renderLxcConfig(spec()));
    assert.ok(l.includes("lxc.uts.name = pg1"));
    assert.ok(l.includes("lxc.rootfs.path = overlay:/cache/rootfs:/state/lxc/203/upper"));
    assert.ok(l.includes("lxc.net.0.link = pvehab0"));
    assert.ok(l.includes("lxc.net.0.ipv4.address = 10.213.47.13/24"));
    assert.ok(l.includes("lxc.net.0.ipv4.gateway = 10.213.47.1"));
    assert.ok(l.includes("lxc.apparmor.profile = unconfined"));
  });

  it("bind-mounts the apt repository read-only at a relative container path", () => {
    assert.ok(
      lines(renderLxcConfig(spec())).includes(
        "lxc.mount.entry = /cache/apt-repo srv/apt none bind,ro,create=dir 0 0",
      ),
    );
  });

  it("limits memory and CPU with cgroup v1 keys", () => {
    const l = lines(renderLxcConfig(spec()));
    assert.ok(l.includes(`lxc.cgroup.memory.limit_in_bytes = ${2048 * 1024 * 1024}`));
    assert.ok(l.includes("lxc.cgroup.cpu.cfs_quota_us = 200000"));
    assert.ok(!l.some((x) => x.startsWith("lxc.cgroup2.")));
  });

  it("limits memory and CPU with cgroup v2 keys", () => {
    const l = lines(renderLxcConfig(spec({ cgroupVersion: 2, cores: 1, memoryMb: 512 })));
    assert.ok(l.includes(`lxc.cgroup2.memory.max = ${512 * 1024 * 1024}`));
    assert.ok(l.includes("lxc.cgroup2.cpu.max = 100000 100000"));
    assert.ok(!l.some((x) => x.startsWith("lxc.cgroup.")));
  });

  it("gives each VMID its own stable locally administered MAC", () => {
    assert.equal(macForVmid(203), "02:50:48:00:00:cb");
    assert.notEqual(macForVmid(203), macForVmid(204));
    assert.ok(lines(renderLxcConfig(spec())).includes("lxc.net.0.hwaddr = 02:50:48:00:00:cb"));
  });

  it("rejects a bad VMID, hostname or mount point naming the value", () => {
    assert.throws(() => renderLxcConfig(spec({ vmid: 7 })), /invalid VMID for the sandbox: 7/);
    assert.throws(
      () => renderLxcConfig(spec({ hostname: "PG_1" })),
      /invalid hostname for the sandbox: "PG_1"/,
    );
    assert.throws(
      () => renderLxcConfig(spec({ aptRepoMountPoint: "srv/apt" })),
      /must be absolute: srv\/apt/,
    );
  });
});

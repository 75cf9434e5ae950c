/** Pure renderer of an LXC container config for one sandbox node. */

export interface LxcNodeSpec {
  readonly vmid: number;
  readonly hostname: string;
  readonly lowerRootfs: string;
  readonly upperDir: string;
  readonly bridge: string;
  readonly ipCidr: string; // e.g. 10.213.47.10/24
  readonly gateway: string;
  readonly memoryMb: number;
  readonly cores: number;
  readonly cgroupVersion: 1 | 2;
  readonly aptRepoDir: string;
  readonly aptRepoMountPoint: string; // absolute path inside the container
}

const CFS_PERIOD_US = 100000;

function memoryAndCpuLines(spec: LxcNodeSpec): string[] {
  const bytes = spec.memoryMb * 1024 * 1024;
  const quota = spec.cores * CFS_PERIOD_US;
  if (spec.cgroupVersion === 1) {
    return [
      `lxc.cgroup.memory.limit_in_bytes = ${bytes}`,
      `lxc.cgroup.cpu.cfs_period_us = ${CFS_PERIOD_US}`,
      `lxc.cgroup.cpu.cfs_quota_us = ${quota}`,
    ];
  }
  return [`lxc.cgroup2.memory.max = ${bytes}`, `lxc.cgroup2.cpu.max = ${quota} ${CFS_PERIOD_US}`];
}

/** A stable locally administered MAC derived from the VMID, so a re-created node keeps its MAC. */
export function macForVmid(vmid: number): string {
  const bytes = [
    0x02,
    0x50,
    0x48,
    Math.floor(vmid / 65536) % 256,
    Math.floor(vmid / 256) % 256,
    vmid % 256,
  ];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

export function renderLxcConfig(spec: LxcNodeSpec): string {
  if (!Number.isInteger(spec.vmid) || spec.vmid < 100) {
    throw new Error(`invalid VMID for the sandbox: ${spec.vmid}`);
  }
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(spec.hostname)) {
    throw new Error(`invalid hostname for the sandbox: ${JSON.stringify(spec.hostname)}`);
  }
  if (!spec.aptRepoMountPoint.startsWith("/")) {
    throw new Error(`apt repo mount point must be absolute: ${spec.aptRepoMountPoint}`);
  }
  return [
    "lxc.include = /usr/share/lxc/config/common.conf",
    "lxc.arch = linux64",
    `lxc.uts.name = ${spec.hostname}`,
    `lxc.rootfs.path = overlay:${spec.lowerRootfs}:${spec.upperDir}`,
    // The generated AppArmor profile refuses systemd's mounts in a nested container.
    "lxc.apparmor.profile = unconfined",
    "lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed",
    "lxc.autodev = 1",
    "lxc.net.0.type = veth",
    `lxc.net.0.link = ${spec.bridge}`,
    "lxc.net.0.flags = up",
    "lxc.net.0.name = eth0",
    `lxc.net.0.hwaddr = ${macForVmid(spec.vmid)}`,
    `lxc.net.0.ipv4.address = ${spec.ipCidr}`,
    `lxc.net.0.ipv4.gateway = ${spec.gateway}`,
    ...memoryAndCpuLines(spec),
    `lxc.mount.entry = ${spec.aptRepoDir} ${spec.aptRepoMountPoint.slice(1)} none bind,ro,create=dir 0 0`,
    "",
  ].join("\n");
}

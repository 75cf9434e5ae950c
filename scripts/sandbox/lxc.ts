import * as fs from "fs";
import * as path from "path";
import { run, runChecked } from "./exec";
import { LxcNodeSpec, renderLxcConfig } from "./lxc-config";

export function hostCgroupVersion(): 1 | 2 {
  return fs.existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes") ? 1 : 2;
}

export async function containerState(lxcPath: string, vmid: number): Promise<string> {
  const r = await run("lxc-info", ["-P", lxcPath, "-n", String(vmid), "-s", "-H"]);
  return r.code === 0 ? r.stdout.trim() : "ABSENT";
}

export interface NodeFiles {
  readonly hosts: string;
  readonly hostname: string;
  readonly resolvConf: string;
}

/** What Proxmox writes into a container it manages: /etc/hostname, /etc/hosts, /etc/resolv.conf. */
export function renderNodeFiles(
  hostname: string,
  ip: string,
  dnsServers: readonly string[],
): NodeFiles {
  return {
    hostname: `${hostname}\n`,
    hosts: `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\t${hostname}\n`,
    resolvConf:
      dnsServers.length > 0 ? dnsServers.map((s) => `nameserver ${s}\n`).join("") : "# no DNS\n",
  };
}

/**
 * Creates (or updates) and starts one container. Returns "created" when its root filesystem is new,
 * "updated" when the config changed, "unchanged" otherwise.
 */
export async function ensureContainer(
  lxcPath: string,
  spec: LxcNodeSpec,
  files: NodeFiles,
  start: boolean,
): Promise<"created" | "updated" | "unchanged"> {
  const dir = path.join(lxcPath, String(spec.vmid));
  const configFile = path.join(dir, "config");
  const config = renderLxcConfig(spec);
  const isNew = !fs.existsSync(spec.upperDir);
  const old = fs.existsSync(configFile) ? fs.readFileSync(configFile, "utf8") : undefined;
  const changed = old !== config;
  // A new root filesystem or a changed config takes effect only on a fresh start.
  if (
    (isNew || (changed && old !== undefined)) &&
    (await containerState(lxcPath, spec.vmid)) === "RUNNING"
  ) {
    await runChecked("lxc-stop", ["-P", lxcPath, "-n", String(spec.vmid), "-t", "30"]);
  }
  fs.mkdirSync(path.join(spec.upperDir, "etc"), { recursive: true });
  fs.writeFileSync(path.join(spec.upperDir, "etc", "hostname"), files.hostname);
  fs.writeFileSync(path.join(spec.upperDir, "etc", "hosts"), files.hosts);
  fs.writeFileSync(path.join(spec.upperDir, "etc", "resolv.conf"), files.resolvConf);
  if (changed) fs.writeFileSync(configFile, config);
  if (start && (await containerState(lxcPath, spec.vmid)) !== "RUNNING") {
    await runChecked("lxc-start", [
      "-P",
      lxcPath,
      "-n",
      String(spec.vmid),
      "-d",
      "-o",
      path.join(dir, "lxc.log"),
    ]);
    await runChecked("lxc-wait", [
      "-P",
      lxcPath,
      "-n",
      String(spec.vmid),
      "-s",
      "RUNNING",
      "-t",
      "30",
    ]);
  }
  return isNew ? "created" : changed ? "updated" : "unchanged";
}

export function listContainers(lxcPath: string): number[] {
  if (!fs.existsSync(lxcPath)) return [];
  return fs
    .readdirSync(lxcPath)
    .filter((n) => /^\d+$/.test(n) && fs.existsSync(path.join(lxcPath, n, "config")))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Stops and removes one container and its root filesystem (nothing outside its directory). */
export async function destroyContainer(lxcPath: string, vmid: number): Promise<void> {
  if ((await containerState(lxcPath, vmid)) === "RUNNING") {
    await runChecked("lxc-stop", ["-P", lxcPath, "-n", String(vmid), "-k"]);
  }
  fs.rmSync(path.join(lxcPath, String(vmid)), { recursive: true, force: true });
}

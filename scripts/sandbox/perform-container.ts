import * as path from "path";
import { bridgeExists } from "./bridge";
import type { SandboxContext } from "./context";
import { ensureContainer, hostCgroupVersion, renderNodeFiles } from "./lxc";
import type { Performed } from "./monitor";
import { vmidOfCommand } from "./perform-command";
import { saveState } from "./state";

type Inputs = Record<string, unknown>;

function obj(value: unknown, what: string): Inputs {
  if (value === null || typeof value !== "object")
    throw new Error(`ContainerLegacy: missing ${what}`);
  return value as Inputs;
}

/** The parts of a ContainerLegacy's inputs the sandbox maps onto an LXC container. */
export interface ContainerInputs {
  readonly vmid: number;
  readonly hostname: string;
  readonly ipCidr: string;
  readonly gateway: string;
  readonly bridge: string | undefined;
  readonly memoryMb: number;
  readonly cores: number;
  readonly dnsServers: string[];
  readonly started: boolean;
}

export function readContainerInputs(name: string, inputs: Inputs): ContainerInputs {
  const vmid = Number(inputs.vmId);
  if (!Number.isInteger(vmid))
    throw new Error(`ContainerLegacy ${name}: vmId is not set (got ${String(inputs.vmId)})`);
  const init = obj(inputs.initialization, `initialization of ${name}`);
  const ipConfigs = (init.ipConfigs ?? []) as Inputs[];
  const ipv4 = obj(ipConfigs[0]?.ipv4, `initialization.ipConfigs[0].ipv4 of ${name}`);
  const ipCidr = String(ipv4.address ?? "");
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(ipCidr)) {
    throw new Error(
      `ContainerLegacy ${name}: the sandbox needs a static IPv4 address/prefix (got ${ipCidr})`,
    );
  }
  const nics = (inputs.networkInterfaces ?? []) as Inputs[];
  const dns = (init.dns ?? {}) as Inputs;
  return {
    vmid,
    hostname: String(init.hostname ?? name),
    ipCidr,
    gateway: String(ipv4.gateway ?? ""),
    bridge: nics[0]?.bridge === undefined ? undefined : String(nics[0].bridge),
    memoryMb: Number((inputs.memory as Inputs | undefined)?.dedicated ?? 512),
    cores: Number((inputs.cpu as Inputs | undefined)?.cores ?? 1),
    dnsServers: (
      (dns.servers as string[] | undefined) ?? (dns.server ? [String(dns.server)] : [])
    ).map(String),
    started: inputs.started !== false,
  };
}

/** A re-created root filesystem is empty: forget every command that ran in the old one. */
function forgetCommandsOf(ctx: SandboxContext, vmid: number): void {
  for (const [key, record] of Object.entries(ctx.state.resources)) {
    if (record.type.startsWith("command:") && vmidOfCommand(record.outputs) === String(vmid)) {
      delete ctx.state.resources[key];
    }
  }
  saveState(ctx.paths.stateFile, ctx.state);
}

export async function performContainer(
  ctx: SandboxContext,
  name: string,
  inputs: Inputs,
): Promise<Performed> {
  const c = readContainerInputs(name, inputs);
  if (c.bridge !== undefined && c.bridge !== ctx.bridge.name) {
    throw new Error(
      `ContainerLegacy ${name}: bridge ${c.bridge} is not the sandbox bridge ${ctx.bridge.name}`,
    );
  }
  if (c.gateway !== ctx.bridge.gateway) {
    throw new Error(
      `ContainerLegacy ${name}: gateway ${c.gateway} is not the sandbox gateway ${ctx.bridge.gateway}`,
    );
  }
  if (!(await bridgeExists(ctx.bridge.name)))
    throw new Error(`sandbox bridge ${ctx.bridge.name} does not exist`);
  const dir = path.join(ctx.paths.lxcPath, String(c.vmid));
  const outcome = await ensureContainer(
    ctx.paths.lxcPath,
    {
      vmid: c.vmid,
      hostname: c.hostname,
      lowerRootfs: ctx.baseRootfs,
      upperDir: path.join(dir, "upper"),
      bridge: ctx.bridge.name,
      ipCidr: c.ipCidr,
      gateway: c.gateway,
      memoryMb: c.memoryMb,
      cores: c.cores,
      cgroupVersion: hostCgroupVersion(),
      aptRepoDir: ctx.paths.aptRepoDir,
      aptRepoMountPoint: ctx.aptRepoMountPoint,
    },
    renderNodeFiles(c.hostname, c.ipCidr.split("/")[0], c.dnsServers),
    c.started,
  );
  if (outcome === "created") forgetCommandsOf(ctx, c.vmid);
  return { id: String(c.vmid), outputs: { ...inputs, vmId: c.vmid } };
}

/** The template download: in the sandbox every container uses the cached Debian 12 base rootfs. */
export async function performTemplate(
  ctx: SandboxContext,
  name: string,
  inputs: Inputs,
): Promise<Performed> {
  const datastore = String(inputs.datastoreId ?? "local");
  const contentType = String(inputs.contentType ?? "vztmpl");
  const fileName = String(
    inputs.fileName ?? path.basename(String(inputs.url ?? `${name}.tar.zst`)),
  );
  ctx.log(
    `       template ${fileName} -> cached base rootfs ${path.relative(ctx.paths.repoRoot, ctx.baseRootfs)}`,
  );
  return { id: `${datastore}:${contentType}/${fileName}`, outputs: { ...inputs, fileName } };
}

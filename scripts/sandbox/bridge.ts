import { run, runChecked } from "./exec";
import { bridgeMacAddress, findSubnetConflicts, HostRoute, parseCidr } from "./net-plan";

export interface BridgePlan {
  readonly name: string;
  readonly subnet: string; // 10.213.47.0/24
  readonly gateway: string; // 10.213.47.1 (held by the bridge)
}

export async function bridgeExists(name: string): Promise<boolean> {
  return (await run("ip", ["link", "show", "dev", name])).code === 0;
}

async function hostRoutes(): Promise<HostRoute[]> {
  const routes = JSON.parse(
    (await runChecked("ip", ["-j", "-4", "route", "show", "table", "all"])).stdout,
  ) as {
    dst: string;
    dev?: string;
    type?: string;
  }[];
  const addrs = JSON.parse((await runChecked("ip", ["-j", "-4", "addr", "show"])).stdout) as {
    ifname: string;
    addr_info: { local: string; prefixlen: number }[];
  }[];
  return [
    ...routes.filter((r) => r.type !== "broadcast").map((r) => ({ dst: r.dst, dev: r.dev })),
    ...addrs.flatMap((a) =>
      a.addr_info.map((i) => ({ dst: `${i.local}/${i.prefixlen}`, dev: a.ifname })),
    ),
  ];
}

/**
 * Creates the sandbox bridge holding the gateway address. Refuses when the subnet overlaps any
 * host route or address. Adds no NAT, no forwarding and no route beyond the bridge's own subnet.
 */
export async function ensureBridge(plan: BridgePlan): Promise<"created" | "exists"> {
  const prefix = parseCidr(plan.subnet).prefix;
  const conflicts = findSubnetConflicts(plan.subnet, await hostRoutes(), plan.name);
  if (conflicts.length > 0) {
    throw new Error(
      `sandbox subnet ${plan.subnet} overlaps host routes/addresses: ${conflicts.join(", ")}`,
    );
  }
  if (await bridgeExists(plan.name)) {
    await ensureAddress(plan, prefix);
    return "exists";
  }
  await runChecked("ip", [
    "link",
    "add",
    "name",
    plan.name,
    "address",
    bridgeMacAddress(plan.gateway),
    "type",
    "bridge",
  ]);
  await ensureAddress(plan, prefix);
  return "created";
}

async function ensureAddress(plan: BridgePlan, prefix: number): Promise<void> {
  const mac = bridgeMacAddress(plan.gateway);
  const link = JSON.parse(
    (await runChecked("ip", ["-j", "link", "show", "dev", plan.name])).stdout,
  ) as {
    address?: string;
  }[];
  if (link[0]?.address !== mac) await runChecked("ip", ["link", "set", plan.name, "address", mac]);
  const shown = (await runChecked("ip", ["-4", "-o", "addr", "show", "dev", plan.name])).stdout;
  if (!shown.includes(` ${plan.gateway}/${prefix} `)) {
    await runChecked("ip", ["addr", "add", `${plan.gateway}/${prefix}`, "dev", plan.name]);
  }
  await runChecked("ip", ["link", "set", plan.name, "up"]);
}

export async function removeBridge(name: string): Promise<boolean> {
  if (!(await bridgeExists(name))) return false;
  await runChecked("ip", ["link", "delete", name, "type", "bridge"]);
  return true;
}

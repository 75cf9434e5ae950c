/** Pure parts of the hard faults: the shell run inside a container, and parsers of its tools. */

export interface UnitState {
  activeState: string;
  /** 0 when the unit has no main process */
  mainPid: number;
}

/** Parses `systemctl show -p ActiveState -p MainPID <unit>` (KEY=value lines, any order). */
export function parseUnitShow(text: string): UnitState {
  const value = (key: string): string | undefined =>
    new RegExp(`^${key}=(.*)$`, "m").exec(text)?.[1].trim();
  const activeState = value("ActiveState");
  const pid = Number(value("MainPID"));
  if (activeState === undefined || !Number.isInteger(pid)) {
    throw new Error(`cannot parse systemctl show output: ${JSON.stringify(text.slice(0, 200))}`);
  }
  return { activeState, mainPid: pid };
}

/** The interface holding `ip` in `ip -o -4 addr show` output. */
export function interfaceOf(ipAddrText: string, ip: string): string {
  for (const line of ipAddrText.split("\n")) {
    const m = /^\d+:\s+([^\s@:]+)(?:@\S+)?\s+inet\s+(\d+\.\d+\.\d+\.\d+)\//.exec(line.trim());
    if (m && m[2] === ip) return m[1];
  }
  throw new Error(`no interface holds ${ip}: ${JSON.stringify(ipAddrText.slice(0, 300))}`);
}

/** The default gateway on `iface` in `ip -4 route show default` output, or null. */
export function defaultGateway(ipRouteText: string, iface: string): string | null {
  for (const line of ipRouteText.split("\n")) {
    const m = /^default via (\d+\.\d+\.\d+\.\d+) dev (\S+)/.exec(line.trim());
    if (m && m[2] === iface) return m[1];
  }
  return null;
}

function checkName(iface: string, gateway: string | null): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(iface)) {
    throw new Error(`not an interface name: ${JSON.stringify(iface)}`);
  }
  if (gateway !== null && !/^\d{1,3}(\.\d{1,3}){3}$/.test(gateway)) {
    throw new Error(`not an IPv4 gateway: ${JSON.stringify(gateway)}`);
  }
}

/**
 * Brings the link up again and puts back the default route (an interface going down takes its
 * routes with it; the connected subnet route returns with the link, the default route does not).
 */
export function linkUpScript(iface: string, gateway: string | null): string {
  checkName(iface, gateway);
  return [
    `ip link set ${iface} up`,
    ...(gateway ? [`ip route replace default via ${gateway} dev ${iface}`] : []),
  ].join("; ");
}

/**
 * Takes the link down for `seconds` and brings it up again, run detached inside the container
 * (setsid, std streams closed): the link comes back even when the drill that started it dies.
 */
export function linkDownScript(iface: string, seconds: number, gateway: string | null): string {
  checkName(iface, gateway);
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`bad seconds ${seconds}`);
  return `exec </dev/null >/dev/null 2>&1; ip link set ${iface} down; sleep ${seconds}; ${linkUpScript(iface, gateway)}`;
}

export interface VoterReplication {
  nodeId: number;
  lag: number;
  lastFetchMs: number;
  lastCaughtUpMs: number;
  status: string;
}

/**
 * Parses `kafka-metadata-quorum describe --replication` (a header line, then one row per node:
 * NodeId [DirectoryId] LogEndOffset Lag LastFetchTimestamp LastCaughtUpTimestamp Status).
 */
export function parseQuorumReplication(text: string): VoterReplication[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const head = lines.findIndex((l) => /^\s*NodeId\s/.test(l));
  if (head < 0) {
    throw new Error(
      `no NodeId header in kafka-metadata-quorum output: ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  const cols = lines[head].trim().split(/\s+/);
  const at = (name: string): number => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`kafka-metadata-quorum output has no ${name} column`);
    return i;
  };
  const [id, lag, fetch, caught, status] = [
    at("NodeId"),
    at("Lag"),
    at("LastFetchTimestamp"),
    at("LastCaughtUpTimestamp"),
    at("Status"),
  ];
  return lines.slice(head + 1).map((l) => {
    const f = l.trim().split(/\s+/);
    return {
      nodeId: Number(f[id]),
      lag: Number(f[lag]),
      lastFetchMs: Number(f[fetch]),
      lastCaughtUpMs: Number(f[caught]),
      status: f[status] ?? "",
    };
  });
}

/**
 * Voters that are present: the leader, and followers within `maxLag` records that caught up at
 * most `maxAgeMs` before the newest fetch in the same output (one clock: the leader's).
 */
export function presentVoters(
  rows: readonly VoterReplication[],
  voterIds: readonly number[],
  maxLag: number,
  maxAgeMs: number,
): { present: number[]; missing: number[] } {
  const newest = Math.max(0, ...rows.map((r) => r.lastFetchMs).filter(Number.isFinite));
  const ok = (id: number): boolean =>
    rows.some(
      (r) =>
        r.nodeId === id &&
        (r.status === "Leader" ||
          (r.status === "Follower" && r.lag <= maxLag && newest - r.lastCaughtUpMs <= maxAgeMs)),
    );
  return {
    present: voterIds.filter(ok),
    missing: voterIds.filter((id) => !ok(id)),
  };
}

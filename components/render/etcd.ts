/**
 * etcd 3.4 (Debian 12's etcd-server 3.4.23) as Patroni's DCS (pgFailover auto): one member of a
 * static cluster of three, as the environment file /etc/default/etcd. Debian's etcd.service reads
 * it (`EnvironmentFile=-/etc/default/%p`, `ExecStart=/usr/bin/etcd $DAEMON_ARGS`, User=etcd,
 * `Type=notify`, `Restart=on-abnormal`; the unit's own ETCD_NAME=%H and ETCD_DATA_DIR are
 * overridden here).
 *
 * Timings for one LAN (sub-millisecond round trips): heartbeat 100 ms, election timeout 1000 ms,
 * etcd's defaults and its rule of election >= 10 x heartbeat (and >= 5 x the round trip). A lost
 * leader is replaced after one election timeout, randomised by etcd up to twice that: about
 * 1-2 s, inside Patroni's retry_timeout (3 s), so an etcd leader change demotes no PostgreSQL
 * primary. Shorter timeouts buy nothing Patroni could use (its ttl is whole seconds) and make a
 * busy container's pause look like a lost leader. etcd's smallest lease is 1.5 x the election
 * timeout: Patroni's ttl must stay above it (checked here).
 *
 * Plain HTTP on the cluster network, as PostgreSQL's replication is; the container firewall
 * (exposure.ts) limits 2379/2380 to the members and the Patroni nodes.
 */
import { PORTS } from "../config/ports";

export const ETCD_ENV_PATH = "/etc/default/etcd";
export const ETCD_UNIT = "etcd.service";
/**
 * Not Debian's /var/lib/etcd/default: the package's postinst starts a single-member etcd there on
 * install, and a member finding data ignores ETCD_INITIAL_CLUSTER, so it would stay that cluster.
 */
export const ETCD_DATA_DIR = "/var/lib/etcd/pve-ha";

export const ETCD_TIMINGS_MS = { heartbeat: 100, election: 1000 } as const;

export interface EtcdMember {
  name: string;
  ip: string;
}

export interface EtcdEnvOptions {
  /** This member (one of `members`). */
  self: EtcdMember;
  /** The static cluster, every member including self. */
  members: EtcdMember[];
  /** Same on every member; a new token per cluster keeps members of another from joining. */
  clusterToken: string;
  /** "new" on the first start; "existing" to add a member to a running cluster. */
  clusterState?: "new" | "existing";
  /** Overrides for the real-tool check outside a container. */
  dataDir?: string;
  clientPort?: number;
  peerPort?: number;
  /** Also listen for clients on 127.0.0.1 (default); the loopback check runs 3 members on one host. */
  listenLoopback?: boolean;
}

function fail(message: string): never {
  throw new Error(`etcd: ${message}`);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;
const TOKEN = /^[A-Za-z0-9_.-]{1,64}$/;
const PATH = /^\/[A-Za-z0-9_./-]+$/;

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    fail(`${what} must be a port number (got ${port})`);
  }
}

function checkOptions(o: EtcdEnvOptions): void {
  if (o.members.length !== 3) fail(`members must be 3 (got ${o.members.length})`);
  for (const m of o.members) {
    if (!NAME.test(m.name)) fail(`member name is invalid (got "${m.name}")`);
    if (!IPV4.test(m.ip)) fail(`member ${m.name} address is invalid (got "${m.ip}")`);
  }
  for (const key of ["name", "ip"] as const) {
    const values = o.members.map((m) => m[key]);
    const twice = values.find((v, i) => values.indexOf(v) !== i);
    if (twice !== undefined) fail(`member ${key}s must differ (got "${twice}" twice)`);
  }
  if (!o.members.some((m) => m.name === o.self.name && m.ip === o.self.ip)) {
    fail(`self is not one of the members (got "${o.self.name}" ${o.self.ip})`);
  }
  if (!TOKEN.test(o.clusterToken)) fail(`clusterToken is invalid (got "${o.clusterToken}")`);
  if (o.dataDir !== undefined && !PATH.test(o.dataDir)) {
    fail(`dataDir must be an absolute path (got "${o.dataDir}")`);
  }
  checkPort("clientPort", o.clientPort ?? PORTS.etcdClient);
  checkPort("peerPort", o.peerPort ?? PORTS.etcdPeer);
  if ((o.clientPort ?? PORTS.etcdClient) === (o.peerPort ?? PORTS.etcdPeer)) {
    fail(`clientPort and peerPort must differ (got ${o.clientPort ?? PORTS.etcdClient} twice)`);
  }
}

/** The client URLs Patroni's etcd3 section lists, host:port (every member). */
export function etcdClientHosts(
  members: EtcdMember[],
  clientPort: number = PORTS.etcdClient,
): string[] {
  return members.map((m) => `${m.ip}:${clientPort}`);
}

/** The smallest lease etcd grants, in ms: Patroni's ttl must be longer. */
export function etcdMinLeaseTtlMs(): number {
  return (3 * ETCD_TIMINGS_MS.election) / 2;
}

/** /etc/default/etcd of one member. */
export function renderEtcdEnv(o: EtcdEnvOptions): string {
  checkOptions(o);
  const client = o.clientPort ?? PORTS.etcdClient;
  const peer = o.peerPort ?? PORTS.etcdPeer;
  const clientListen =
    o.listenLoopback === false
      ? `ETCD_LISTEN_CLIENT_URLS="http://${o.self.ip}:${client}"`
      : `# Loopback too, so etcdctl on the member needs no address.
ETCD_LISTEN_CLIENT_URLS="http://${o.self.ip}:${client},http://127.0.0.1:${client}"`;
  const cluster = o.members.map((m) => `${m.name}=http://${m.ip}:${peer}`).join(",");
  return `# etcd member ${o.self.name} of ${o.members.map((m) => m.name).join(", ")}: Patroni's DCS.
# Rendered by pve-ha-stack (components/render/etcd.ts: why these timings).
ETCD_NAME="${o.self.name}"
ETCD_DATA_DIR="${o.dataDir ?? ETCD_DATA_DIR}"
ETCD_LISTEN_PEER_URLS="http://${o.self.ip}:${peer}"
ETCD_INITIAL_ADVERTISE_PEER_URLS="http://${o.self.ip}:${peer}"
${clientListen}
ETCD_ADVERTISE_CLIENT_URLS="http://${o.self.ip}:${client}"
ETCD_INITIAL_CLUSTER="${cluster}"
ETCD_INITIAL_CLUSTER_STATE="${o.clusterState ?? "new"}"
ETCD_INITIAL_CLUSTER_TOKEN="${o.clusterToken}"
ETCD_HEARTBEAT_INTERVAL="${ETCD_TIMINGS_MS.heartbeat}"
ETCD_ELECTION_TIMEOUT="${ETCD_TIMINGS_MS.election}"
# A member cut off (link down) keeps raising its term; without pre-vote its return forces an
# election that stalls every request for a moment, the primary's lease renewals included.
ETCD_PRE_VOTE="true"
# Patroni speaks the v3 API (etcd3 section); the v2 API stays off (3.4's default).
ETCD_ENABLE_V2="false"
`;
}

/** The witness's service that keeps the etcd leader on it (renderEtcdLeaderKeeperScript). */
export const ETCD_LEADER_KEEPER_UNIT = "pve-ha-etcd-leader.service";
export const ETCD_LEADER_KEEPER_PATH = "/usr/local/sbin/pve-ha-etcd-leader";
/** Seconds between two looks at who leads etcd. */
export const ETCD_LEADER_KEEPER_INTERVAL_S = 5;

/**
 * A loop on the witness (pgproxy) that moves etcd's leadership to it whenever another member
 * leads. Why: a newly elected etcd leader renews every lease, so when a PostgreSQL node's host is
 * lost together with the etcd leader, the lost primary's lease (and Patroni's leader lock) lives
 * an election plus a whole ttl longer: measured in the sandbox, writes came back after 10.9-11.2 s
 * instead of ~8 s. The witness's own loss takes HAProxy, and with it database access, anyway.
 */
export function renderEtcdLeaderKeeperScript(o: {
  self: EtcdMember;
  members: EtcdMember[];
  clientPort?: number;
}): string {
  const port = o.clientPort ?? PORTS.etcdClient;
  const url = (m: EtcdMember): string => `http://${m.ip}:${port}`;
  if (!o.members.some((m) => m.name === o.self.name))
    throw new Error(`etcd leader keeper: ${o.self.name} is not a member`);
  return `#!/usr/bin/env bash
# Rendered by pve-ha-stack (render/etcd.ts): keeps the etcd leader on ${o.self.name}, the witness.
set -Euo pipefail
export ETCDCTL_API=3
readonly SELF=${url(o.self)}
readonly ALL=${o.members.map(url).join(",")}
while :; do
  status=$(etcdctl --endpoints="$ALL" --command-timeout=2s endpoint status 2>/dev/null) || true
  self_id=$(awk -F', ' -v me="$SELF" '$1 == me { print $2 }' <<<"$status")
  leader=$(awk -F', ' '$5 == "true" { print $1 }' <<<"$status")
  if [[ -n "$self_id" && -n "$leader" && "$leader" != "$SELF" ]]; then
    if out=$(etcdctl --endpoints="$leader" --command-timeout=3s move-leader "$self_id" 2>&1); then
      echo "$out"
    else
      echo "move-leader from $leader failed: \${out//$'\\n'/ | }" >&2
    fi
  fi
  sleep ${ETCD_LEADER_KEEPER_INTERVAL_S}
done
`;
}

export function renderEtcdLeaderKeeperUnit(): string {
  return `# Rendered by pve-ha-stack (render/etcd.ts): the etcd leader stays on the witness.
[Unit]
Description=pve-ha-stack: keep the etcd leader on this member
After=etcd.service

[Service]
Type=simple
ExecStart=${ETCD_LEADER_KEEPER_PATH}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}

/**
 * keepalived on the two LB nodes (lbReplicas 2): VRRP moves the virtual IP to the other node when
 * the active one's nginx fails its health check, its keepalived stops or its adverts stop (link
 * down, container stopped). The config, the health-check script, the notify script that keeps
 * the node_exporter textfile and a drop-in that clears it when keepalived stops.
 *
 * What keepalived 2.2.7 (Debian 12) says, with `keepalived --config-test -f <file>`:
 *   - VRRPv2 (`vrrp_version 2`, the default) with `advert_int 0.5`, with or without
 *     `authentication { auth_type PASS ... }`: "(<instance>) VRRPv2 advertisement interval
 *     0.500000s must be an integer. rounding" (exit 5); it runs with 1 s adverts. A MASTER whose
 *     link goes down is noticed after 3 adverts plus the skew: about 3.6 s with 1 s adverts,
 *     beyond the 3 s failover target.
 *   - VRRPv3 with `authentication { ... }`: "(<instance>) VRRP version 3 does not support
 *     authentication. Ignoring." (exit 5). Sub-second adverts are accepted in units of 10 ms
 *     ("... VRRPv3 advertisement interval 0.505000s must be in units of 10ms - rounding").
 *   - With `enable_script_security` and any script run as a user other than root (`script_user
 *     keepalived_script`, or a `user` of the script), --config-test prints "Terminated" and exits
 *     143: it kills itself (acassen/keepalived#2587, #2617; fixed in 2.2.8, commit aae8e91).
 * So the pair runs VRRPv3 with sub-second adverts (the 3 s target) and no authentication (2.2.7
 * cannot have both); instead the peers are restricted: unicast to the one peer, `check_unicast_src`
 * drops adverts from any other address and TTL 255 both ways drops adverts from off-link (a router
 * lowers the TTL). VRRPv2's PASS auth would only have been a cleartext password in every packet.
 * The scripts run as root (script_user root) so that --config-test works; only root can change
 * them (enable_script_security checks every directory of their path), and the health check drops
 * to nobody for its curl.
 */
import { VRRP_ADVERT_INTERVAL_MS } from "../config/lb";
import { shellQuote } from "./payload";
import { renderVrrpTextfile, VRRP_TEXTFILE_PATH } from "./observability/vrrpTextfile";

export const KEEPALIVED_CONF_PATH = "/etc/keepalived/keepalived.conf";
export const KEEPALIVED_UNIT = "keepalived.service";
/** Root-owned, written by the keepalived-configure payload. */
export const KEEPALIVED_SCRIPT_DIR = "/usr/local/lib/pve-ha/keepalived";
export const NGINX_CHECK_SCRIPT_PATH = `${KEEPALIVED_SCRIPT_DIR}/check-nginx`;
export const VRRP_NOTIFY_SCRIPT_PATH = `${KEEPALIVED_SCRIPT_DIR}/vrrp-state`;
export const KEEPALIVED_STATE_DROP_IN_PATH = `/etc/systemd/system/${KEEPALIVED_UNIT}.d/pve-ha-vrrp-state.conf`;

/** The VRRP instance of the LB pair: the `vrrp_instance` label of the textfile's gauges. */
export const VRRP_INSTANCE = "pve_ha_vip";
const VRRP_SCRIPT = "pve_ha_nginx";

/** Interface of every container (ProxmoxLxcNode's only network interface). */
export const CONTAINER_INTERFACE = "eth0";

/**
 * VRRP priority of the LB pair's nodes in plan order: the first LB wins the first election;
 * after that nopreempt keeps the virtual IP where it is.
 */
export const VRRP_PRIORITIES: readonly number[] = [150, 100];

/** Seconds between two health checks, and how long one may take (curl gives up after 1 s). */
const CHECK_INTERVAL_SECONDS = 1;
const CHECK_TIMEOUT_SECONDS = 2;
const CURL_MAX_TIME_SECONDS = 1;

export interface VrrpPeer {
  name: string;
  ip: string;
}

export interface KeepalivedConfOptions {
  /** This node; `unicast_src_ip` and keepalived's router_id. */
  self: VrrpPeer;
  /** The other LB: the only source accepted and the only destination of adverts. */
  peer: VrrpPeer;
  priority: number;
  virtualIp: string;
  /** Prefix length of the network (the virtual IP's netmask). */
  prefix: number;
  routerId: number;
  advertIntervalMs: number;
  interface?: string;
  /** Script paths; overridden only by the real-tool check, which cannot write /usr/local. */
  checkScript?: string;
  notifyScript?: string;
}

function fail(message: string): never {
  throw new Error(`keepalived: ${message}`);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PATH = /^\/[A-Za-z0-9_./-]+$/;

function checkInteger(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(`${what} must be an integer from ${min} to ${max} (got ${value})`);
  }
}

function checkOptions(o: KeepalivedConfOptions): void {
  for (const [what, node] of [
    ["self", o.self],
    ["peer", o.peer],
  ] as const) {
    if (!NAME.test(node.name)) fail(`${what} name is invalid (got "${node.name}")`);
    if (!IPV4.test(node.ip)) fail(`${what} address is invalid (got "${node.ip}")`);
  }
  if (o.self.ip === o.peer.ip) fail(`self and peer have the same address (got "${o.self.ip}")`);
  if (!IPV4.test(o.virtualIp)) fail(`virtual IP is invalid (got "${o.virtualIp}")`);
  if ([o.self.ip, o.peer.ip].includes(o.virtualIp)) {
    fail(`virtual IP must differ from both nodes' addresses (got "${o.virtualIp}")`);
  }
  checkInteger("prefix", o.prefix, 8, 30);
  checkInteger("routerId", o.routerId, 1, 255);
  checkInteger("priority", o.priority, 1, 254);
  const { min, max, step } = VRRP_ADVERT_INTERVAL_MS;
  checkInteger("advertIntervalMs", o.advertIntervalMs, min, max);
  if (o.advertIntervalMs % step !== 0) {
    fail(`advertIntervalMs must be a multiple of ${step} (got ${o.advertIntervalMs})`);
  }
  if (!NAME.test(o.interface ?? CONTAINER_INTERFACE)) {
    fail(`interface is invalid (got "${o.interface}")`);
  }
  for (const path of [o.checkScript, o.notifyScript]) {
    if (path !== undefined && !PATH.test(path)) fail(`script path is invalid (got "${path}")`);
  }
}

/**
 * How long the BACKUP waits for a silent MASTER (RFC 5798 Master_Down_Interval): 3 adverts plus
 * the skew (256 - priority) / 256 of one. A MASTER that stops or fails its health check sends
 * priority 0 and is replaced after the skew alone.
 */
export function masterDownIntervalMs(advertIntervalMs: number, backupPriority: number): number {
  return 3 * advertIntervalMs + ((256 - backupPriority) * advertIntervalMs) / 256;
}

/** keepalived.conf of one LB of the pair (the two differ in self/peer and priority). */
export function renderKeepalivedConf(o: KeepalivedConfOptions): string {
  checkOptions(o);
  const dev = o.interface ?? CONTAINER_INTERFACE;
  return `# keepalived of ${o.self.name}: LB pair ${o.self.name} + ${o.peer.name}, virtual IP ${o.virtualIp}.
# Rendered by pve-ha-stack (components/render/keepalived.ts: why VRRPv3 without authentication).
global_defs {
  router_id ${o.self.name}
  vrrp_version 3
  # Scripts only root can change; they run as root (keepalived 2.2.7's --config-test kills itself
  # for a script of another user). The health check runs its curl as nobody.
  enable_script_security
  script_user root
}

vrrp_script ${VRRP_SCRIPT} {
  script "${o.checkScript ?? NGINX_CHECK_SCRIPT_PATH}"
  interval ${CHECK_INTERVAL_SECONDS}
  timeout ${CHECK_TIMEOUT_SECONDS}
  fall 1
  rise 1
  # Unweighted: a failing check puts the instance in FAULT, which gives the virtual IP up.
  weight 0
}

vrrp_instance ${VRRP_INSTANCE} {
  # Both nodes start as BACKUP and the higher priority wins the first election; nopreempt: a node
  # that comes back does not take the virtual IP from the one that serves it.
  state BACKUP
  nopreempt
  interface ${dev}
  virtual_router_id ${o.routerId}
  priority ${o.priority}
  advert_int ${o.advertIntervalMs / 1000}
  # Adverts go to the peer only and count only from it, with TTL 255 (not routed).
  unicast_src_ip ${o.self.ip}
  unicast_ttl 255
  check_unicast_src
  unicast_peer {
    ${o.peer.ip} min_ttl 255 max_ttl 255
  }
  virtual_ipaddress {
    ${o.virtualIp}/${o.prefix} dev ${dev}
  }
  track_script {
    ${VRRP_SCRIPT}
  }
  notify "${o.notifyScript ?? VRRP_NOTIFY_SCRIPT_PATH}"
}
`;
}

/**
 * keepalived's health check of nginx: exit 0 iff `healthUrl` (nginx's own health location on
 * loopback) answers 2xx within 1 s.
 */
export function renderNginxCheckScript(healthUrl: string): string {
  if (!/^http:\/\/127\.0\.0\.1:\d{1,5}\/[A-Za-z0-9_./-]*$/.test(healthUrl)) {
    fail(`health URL must be http://127.0.0.1:<port>/<path> (got "${healthUrl}")`);
  }
  return `#!/bin/bash
# keepalived's health check of nginx (pve-ha-stack): exit 0 iff nginx answers within
# ${CURL_MAX_TIME_SECONDS} s. keepalived runs it as root; curl runs as nobody.
set -Eeuo pipefail
exec setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs -- \\
  curl --silent --fail --output /dev/null --max-time ${CURL_MAX_TIME_SECONDS} ${shellQuote(healthUrl)}
`;
}

/**
 * keepalived's notify script: on every state change of the instance it replaces the node_exporter
 * textfile (vrrpTextfile.ts) atomically: a temporary file beside it (node_exporter reads only
 * `*.prom`), then a rename. keepalived calls it with `INSTANCE <name> <state> <priority>`; STOP
 * (keepalived stopping, also the drop-in's ExecStopPost) and DELETED count as neither MASTER nor
 * FAULT. PVE_HA_VRRP_TEXTFILE overrides the path for tests.
 */
export function renderVrrpNotifyScript(textfilePath: string = VRRP_TEXTFILE_PATH): string {
  if (!PATH.test(textfilePath) || !textfilePath.endsWith(".prom")) {
    fail(`textfile path must be an absolute *.prom path (got "${textfilePath}")`);
  }
  const text = (state: "MASTER" | "BACKUP" | "FAULT") =>
    shellQuote(renderVrrpTextfile(VRRP_INSTANCE, state));
  return `#!/bin/bash
# keepalived notify (pve-ha-stack): the VRRP state of ${VRRP_INSTANCE} as node_exporter gauges.
set -Eeuo pipefail
: "\${PVE_HA_VRRP_TEXTFILE:=${textfilePath}}"

[[ "\${1:-}" == INSTANCE && "\${2:-}" == ${VRRP_INSTANCE} ]] || exit 0
case "\${3:-}" in
  MASTER) text=${text("MASTER")} ;;
  FAULT) text=${text("FAULT")} ;;
  *) text=${text("BACKUP")} ;;
esac

dir=$(dirname "$PVE_HA_VRRP_TEXTFILE")
mkdir -p "$dir"
# keepalived forks one notify per state change: one writer at a time.
exec 9>"$dir/.pve-ha-vrrp.lock"
flock -w 5 9
tmp=$(mktemp "$dir/.pve-ha-vrrp.XXXXXX")
printf '%s' "$text" >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$PVE_HA_VRRP_TEXTFILE"
`;
}

/**
 * Drop-in for keepalived.service: however keepalived ends (stop, crash, SIGKILL), this node then
 * holds no virtual IP, and the textfile must not keep saying MASTER.
 */
export function renderKeepalivedStateDropIn(
  notifyScript: string = VRRP_NOTIFY_SCRIPT_PATH,
): string {
  if (!PATH.test(notifyScript)) fail(`notify script path is invalid (got "${notifyScript}")`);
  return `# pve-ha-stack: keepalived gone = no virtual IP here; its notify writes every other state.
[Service]
ExecStopPost=${notifyScript} INSTANCE ${VRRP_INSTANCE} STOP 0
`;
}

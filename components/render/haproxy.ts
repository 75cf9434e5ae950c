/**
 * haproxy.cfg of the PostgreSQL proxy: read-write traffic to the node whose role check says
 * "primary" (an HTTP agent on each PG node; `option pgsql-check` passes on a standby too),
 * read-only traffic to the standby with the primary as backup, stats + Prometheus on one port.
 */

import type { HaproxyCheckTimings } from "../config/pgFailover";

export const HAPROXY_CFG_PATH = "/etc/haproxy/haproxy.cfg";

export interface PgBackendServer {
  name: string;
  host: string;
}

export interface HaproxyOptions {
  primary: PgBackendServer;
  standby: PgBackendServer;
  pgPort: number;
  roleCheckPort: number;
  readWritePort: number;
  readOnlyPort: number;
  statsPort: number;
  /**
   * pgFailover auto: check Patroni's REST API (roleCheckPort) instead of the role-check agent,
   * with these timings; absent = today's output, unchanged.
   */
  patroniChecks?: HaproxyCheckTimings;
  /** Overrides for the real-tool check outside a container. */
  statsSocket?: string;
  user?: string;
}

function fail(message: string): never {
  throw new Error(`haproxy: ${message}`);
}

export function renderHaproxyCfg(opts: HaproxyOptions): string {
  for (const s of [opts.primary, opts.standby]) {
    if (!/^[A-Za-z0-9-]+$/.test(s.name)) fail(`server name is invalid (got "${s.name}")`);
    if (!/^[A-Za-z0-9.:-]+$/.test(s.host))
      fail(`server ${s.name} host is invalid (got "${s.host}")`);
  }
  if (opts.primary.name === opts.standby.name)
    fail(`primary and standby share the name "${opts.primary.name}"`);
  const ports = [opts.readWritePort, opts.readOnlyPort, opts.statsPort];
  if (new Set(ports).size !== ports.length)
    fail(`listen ports must differ (got ${ports.join(", ")})`);
  const server = (s: PgBackendServer, extra = "") =>
    `  server ${s.name} ${s.host}:${opts.pgPort} check port ${opts.roleCheckPort}${extra}`;
  const proxies =
    opts.patroniChecks === undefined
      ? roleCheckProxies(opts, server)
      : patroniProxies(opts, opts.patroniChecks, server);
  const user = opts.user ?? "haproxy";
  return `# PostgreSQL proxy. Rendered by pve-ha-stack.
global
  log /dev/log local0 notice
  maxconn 2000
  user ${user}
  group ${user}
  stats socket ${opts.statsSocket ?? "/run/haproxy/admin.sock"} mode 660 level admin

${proxies}frontend stats
  mode http
  bind :${opts.statsPort}
  option httplog
  http-request use-service prometheus-exporter if { path /metrics }
  stats enable
  stats uri /stats
  stats refresh 10s
  stats show-legends
`;
}

type ServerLine = (s: PgBackendServer, extra?: string) => string;

/** Today's proxies: the role-check agent on each PG node (render/postgres.ts). */
function roleCheckProxies(opts: HaproxyOptions, server: ServerLine): string {
  return `defaults
  log global
  mode tcp
  option tcplog
  option dontlognull
  retries 2
  timeout connect 3s
  timeout client 30m
  timeout server 30m
  timeout check 2s
  default-server inter 2s fall 3 rise 2 on-marked-down shutdown-sessions

# Writes: only the node that reports "primary" (pg_is_in_recovery() = false) is UP.
listen pg_read_write
  bind :${opts.readWritePort}
  option httpchk GET /primary
  http-check expect status 200
${server(opts.primary)}
${server(opts.standby)}

# Reads: the standby while it runs, the primary as backup.
listen pg_read_only
  bind :${opts.readOnlyPort}
  balance first
  option httpchk GET /health
  http-check expect status 200
${server(opts.standby)}
${server(opts.primary, " backup")}

`;
}

function checkTimings(t: HaproxyCheckTimings): void {
  for (const key of ["intervalMs", "fall", "rise"] as const) {
    if (!Number.isInteger(t[key]) || t[key] < 1) {
      fail(`patroniChecks.${key} must be a positive integer (got ${t[key]})`);
    }
  }
}

/**
 * pgFailover auto: Patroni answers /primary 200 only on the holder of the leader lock and
 * /replica 200 only on a streaming replica. A node marked DOWN has its sessions ended, so the
 * app reconnects to the new primary instead of writing into a demoted or lost one. Reads go to
 * the replicas while one is UP, else to the primary. A check waits at most one interval.
 */
function patroniProxies(opts: HaproxyOptions, t: HaproxyCheckTimings, server: ServerLine): string {
  checkTimings(t);
  const servers = [opts.primary, opts.standby].map((s) => server(s)).join("\n");
  // OPTIONS: Patroni answers with the status code only. HAProxy drops a check's connection as
  // soon as it has the status, so a body Patroni was still sending ended in a logged traceback
  // per check (ConnectionResetError), several a second on every node.
  const checks = (path: string) => `  option httpchk OPTIONS ${path}
  http-check expect status 200
  default-server inter ${t.intervalMs}ms fall ${t.fall} rise ${t.rise} on-marked-down shutdown-sessions
${servers}`;
  return `defaults
  log global
  mode tcp
  option tcplog
  option dontlognull
  retries 2
  timeout connect 3s
  timeout client 30m
  timeout server 30m
  timeout check ${t.intervalMs}ms

# Writes: the node whose Patroni holds the leader lock.
frontend pg_read_write
  bind :${opts.readWritePort}
  default_backend pg_primary

backend pg_primary
${checks("/primary")}

# Reads: the replicas while one is UP, else the primary.
frontend pg_read_only
  bind :${opts.readOnlyPort}
  use_backend pg_replicas if { nbsrv(pg_replicas) gt 0 }
  default_backend pg_primary

backend pg_replicas
  balance roundrobin
${checks("/replica")}

`;
}

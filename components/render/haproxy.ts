/**
 * haproxy.cfg of the PostgreSQL proxy: read-write traffic to the node whose role check says
 * "primary" (an HTTP agent on each PG node; `option pgsql-check` passes on a standby too),
 * read-only traffic to the standby with the primary as backup, stats + Prometheus on one port.
 */

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
  const user = opts.user ?? "haproxy";
  return `# PostgreSQL proxy. Rendered by pve-ha-stack.
global
  log /dev/log local0 notice
  maxconn 2000
  user ${user}
  group ${user}
  stats socket ${opts.statsSocket ?? "/run/haproxy/admin.sock"} mode 660 level admin

defaults
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

frontend stats
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

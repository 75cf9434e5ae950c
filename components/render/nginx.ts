/** nginx.conf of the load balancer: a complete main config (no includes), checked by `nginx -t`. */
import { PORTS } from "../config/ports";
import type { LbAlgorithm } from "../config/types";
import {
  adminLocationLines,
  deniedLocationLines,
  hstsLine,
  httpLevelLines,
  httpsPortOf,
  limitServerLines,
  tlsServerLines,
  validateAdminAuth,
  validateLimits,
  validateTls,
  type NginxAdminAuthOptions,
  type NginxLimitOptions,
  type NginxTlsOptions,
} from "./nginxSecurity";

export const NGINX_CONF_PATH = "/etc/nginx/nginx.conf";

/**
 * keepalived's health check of nginx (render/keepalived.ts) asks this path on the stub_status
 * server (loopback only): 200 from nginx itself, no upstream involved, so it fails exactly when
 * nginx does not serve.
 */
export const NGINX_HEALTH_PATH = "/lb-health";

/**
 * Seconds proxy_read_timeout adds on top of the app's Kafka publish deadline: the app answers by
 * its deadline whatever Kafka does (a hard timer), so the margin only covers scheduling.
 */
export const NGINX_READ_TIMEOUT_MARGIN_SECONDS = 2;

/**
 * proxy_read_timeout for the app's Kafka publish deadline (appKafkaPublishDeadlineMs): the deadline
 * rounded up to whole seconds plus a margin (12000 ms -> 14 s). It is also how long requests in
 * flight to an app node that went silent (link down, host lost) wait before nginx retries them on
 * another node: nginx has no active health check.
 * Longer than the app's wait for a Kafka ack: a slow Kafka leader change must not look like a dead
 * node (a timeout marks the node down, on every node at once: 502 for all).
 */
export function nginxReadTimeoutSeconds(publishDeadlineMs: number): number {
  if (!Number.isInteger(publishDeadlineMs) || publishDeadlineMs <= 0) {
    fail(`publishDeadlineMs must be a positive integer (got ${publishDeadlineMs})`);
  }
  return Math.ceil(publishDeadlineMs / 1000) + NGINX_READ_TIMEOUT_MARGIN_SECONDS;
}

export interface UpstreamServer {
  name: string;
  host: string;
  port: number;
}

export interface NginxConfOptions {
  upstreams: UpstreamServer[];
  algorithm: LbAlgorithm;
  maxFails: number;
  failTimeoutSeconds: number;
  connectTimeoutMs: number;
  /** proxy_read_timeout; derive it with nginxReadTimeoutSeconds(publish deadline). */
  readTimeoutSeconds: number;
  listenPort: number;
  stubStatusPort: number;
  /** Overrides for running the config outside a container (the real-tool check). */
  pidFile?: string;
  logDir?: string;
  user?: string;
  /**
   * Front-door options (render/nginxSecurity.ts); each one absent renders exactly the config as
   * before it existed. tls: a TLS listener; redirectHttp: plain HTTP only redirects, HSTS sent.
   */
  tls?: NginxTlsOptions;
  /** Basic auth (and a brute-force rate limit) on the admin pages. */
  adminAuth?: NginxAdminAuthOptions;
  /** Per-client POST rate limit (429) and the largest body (413). */
  limits?: NginxLimitOptions;
}

const BALANCING: Record<LbAlgorithm, string | undefined> = {
  round_robin: undefined,
  least_conn: "least_conn;",
  ip_hash: "ip_hash;",
};

function fail(message: string): never {
  throw new Error(`nginx: ${message}`);
}

/** The body of a location that proxies to the app nodes. */
function proxyLines(opts: NginxConfOptions): string[] {
  return [
    "      proxy_pass http://app_nodes;",
    "      proxy_http_version 1.1;",
    `      proxy_set_header Connection "";`,
    "      proxy_set_header Host $host;",
    "      proxy_set_header X-Real-IP $remote_addr;",
    "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "      proxy_set_header X-Forwarded-Proto $scheme;",
    `      proxy_connect_timeout ${opts.connectTimeoutMs}ms;`,
    "      proxy_send_timeout 10s;",
    "      # Outlasts the app's wait for a Kafka ack (see nginxReadTimeoutSeconds).",
    `      proxy_read_timeout ${opts.readTimeoutSeconds}s;`,
    "      # A dead node (refused or reset connection, timeout) costs no failed request: retry on the",
    "      # next node. POST is retried too (non_idempotent): POST /messages is idempotent by",
    `      # message_uid. No http_5xx: the app's 503 ("Kafka did not acknowledge", Retry-After) is an`,
    "      # answer from a live node, passed to the client; counting it as a failure would mark every",
    `      # node down during a Kafka outage and turn the 503s into "no live upstreams". The app`,
    "      # answers 502/504 never (nothing sits between nginx and the app).",
    "      proxy_next_upstream error timeout non_idempotent;",
    `      proxy_next_upstream_tries ${opts.upstreams.length};`,
    "      # Long enough for one more try on the next node after a read timeout.",
    `      proxy_next_upstream_timeout ${2 * opts.readTimeoutSeconds}s;`,
    "      add_header X-Upstream-Addr $upstream_addr always;",
  ];
}

/** The front-door options' http-level lines, each on a line of its own after access_log. */
function httpLevel(opts: NginxConfOptions): string {
  const lines = httpLevelLines(opts.adminAuth, opts.limits);
  return lines.length === 0 ? "" : `\n${lines.join("\n")}`;
}

/** A server that proxies to the app nodes: `listen` + `head` lines, admin locations, `/`. */
function appServer(opts: NginxConfOptions, listen: string, head: string[], hsts: boolean): string {
  const proxy = [...proxyLines(opts), ...(hsts ? [hstsLine("      ")] : [])];
  return [
    "  server {",
    `    ${listen}`,
    ...head,
    ...(opts.limits ? limitServerLines(opts.limits) : ["    client_max_body_size 1m;"]),
    "",
    ...(opts.adminAuth ? adminLocationLines(opts.adminAuth, proxy, opts.limits) : []),
    ...deniedLocationLines(opts.adminAuth),
    "    location / {",
    ...proxy,
    "    }",
    "  }",
  ].join("\n");
}

/**
 * The public servers: plain HTTP as always without `tls`; with it a TLS server too, and the plain
 * one only redirects when tls.redirectHttp (keepalived's health check and stub_status stay on the
 * loopback server, untouched).
 */
function frontServers(opts: NginxConfOptions): string {
  const plainListen = `listen ${opts.listenPort} default_server;`;
  if (!opts.tls) return appServer(opts, plainListen, [], false);
  const httpsPort = httpsPortOf(opts.tls);
  const target = `https://$host${httpsPort === PORTS.https ? "" : `:${httpsPort}`}$request_uri`;
  const plain = opts.tls.redirectHttp
    ? [
        "  server {",
        `    ${plainListen}`,
        "    # Plain HTTP only redirects: same host and path over TLS.",
        `    return 301 ${target};`,
        "  }",
      ].join("\n")
    : appServer(opts, plainListen, [], false);
  const tls = appServer(
    opts,
    `listen ${httpsPort} ssl http2 default_server;`,
    tlsServerLines(opts.tls),
    opts.tls.redirectHttp,
  );
  return `${plain}\n\n${tls}`;
}

export function renderNginxConf(opts: NginxConfOptions): string {
  if (opts.upstreams.length === 0) fail("upstreams must not be empty");
  if (!(opts.algorithm in BALANCING)) fail(`unknown algorithm (got "${opts.algorithm}")`);
  for (const u of opts.upstreams) {
    if (!/^[A-Za-z0-9.:-]+$/.test(u.host))
      fail(`upstream ${u.name} host is invalid (got "${u.host}")`);
    if (!Number.isInteger(u.port) || u.port < 1 || u.port > 65535) {
      fail(`upstream ${u.name} port is invalid (got ${u.port})`);
    }
  }
  if (!Number.isInteger(opts.readTimeoutSeconds) || opts.readTimeoutSeconds < 1) {
    fail(`readTimeoutSeconds must be a positive integer (got ${opts.readTimeoutSeconds})`);
  }
  if (opts.tls !== undefined) validateTls(opts.tls, [opts.listenPort, opts.stubStatusPort]);
  if (opts.adminAuth !== undefined) validateAdminAuth(opts.adminAuth);
  if (opts.limits !== undefined) validateLimits(opts.limits);
  const logDir = opts.logDir ?? "/var/log/nginx";
  const balancing = BALANCING[opts.algorithm];
  const servers = opts.upstreams.map(
    (u) =>
      `    server ${u.host}:${u.port} max_fails=${opts.maxFails} fail_timeout=${opts.failTimeoutSeconds}s; # ${u.name}`,
  );
  return `# Load balancer over the app nodes (${opts.algorithm}). Rendered by pve-ha-stack.
user ${opts.user ?? "www-data"};
worker_processes auto;
pid ${opts.pidFile ?? "/run/nginx.pid"};
error_log ${logDir}/error.log warn;

events {
  worker_connections 1024;
}

http {
  default_type application/octet-stream;
  sendfile on;
  keepalive_timeout 65;
  server_tokens off;
  log_format upstream '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                      'upstream=$upstream_addr upstream_status=$upstream_status '
                      'rt=$request_time urt=$upstream_response_time';
  access_log ${logDir}/access.log upstream;${httpLevel(opts)}

  upstream app_nodes {
${balancing ? `    ${balancing}\n` : ""}${servers.join("\n")}
    # Shared memory: every worker sees one round-robin position and one failure state.
    zone app_nodes 64k;
    keepalive 16;
  }

${frontServers(opts)}

  server {
    listen 127.0.0.1:${opts.stubStatusPort};
    access_log off;
    location = /stub_status {
      stub_status;
      allow 127.0.0.1;
      deny all;
    }
    # keepalived's health check. \`return\` runs before allow/deny: the loopback listen is the
    # only guard, as for the whole server.
    location = ${NGINX_HEALTH_PATH} {
      default_type text/plain;
      return 200 "ok\\n";
    }
  }
}
`;
}

/**
 * The LB's front-door options (issue "Security of the front door"): TLS, HTTP basic auth on the
 * admin pages, per-client rate and size limits on POSTs. Validation and the nginx fragments;
 * render/nginx.ts places them. Every option is optional: absent, nginx.conf is unchanged.
 */
import { PORTS } from "../config/ports";

/** Where the nginx-frontdoor step puts the LB's TLS material and the admin htpasswd. */
export const LB_TLS_CERT_PATH = "/etc/nginx/tls/lb.crt";
export const LB_TLS_KEY_PATH = "/etc/nginx/tls/lb.key";
export const LB_HTPASSWD_PATH = "/etc/nginx/pve-ha-admin.htpasswd";

export interface NginxTlsOptions {
  /** PEM certificate (chain) and its key on the LB; read by nginx's master process (root). */
  certPath: string;
  keyPath: string;
  /**
   * true: the plain HTTP server only answers 301 to https (same host and path) and responses
   * over TLS carry HSTS. false: plain HTTP keeps serving as without TLS, no HSTS.
   */
  redirectHttp: boolean;
  /** The TLS listener; default PORTS.https. */
  httpsPort?: number;
}

export interface NginxAdminAuthOptions {
  /** htpasswd file (user:hash lines, e.g. `openssl passwd -apr1`); read by the worker user. */
  htpasswdPath: string;
  /**
   * Path prefixes behind authentication; default ADMIN_PATHS: the admin page and the JSON API
   * that serves the same rows (and anything under them).
   */
  paths?: string[];
}

export interface NginxLimitOptions {
  /** Sustained POSTs per second per client address (nginx limit_req rate); 0: no rate limit. */
  postRatePerSecond: number;
  /** POSTs a client may send above the rate at once (burst, nodelay); further ones get 429. */
  postBurst: number;
  /** Largest request body (client_max_body_size); a larger one gets 413. */
  maxBodyBytes: number;
}

/**
 * The admin pages' brute-force brake, per client address: 10 requests a minute sustained, a burst
 * of 10 answered at once (nodelay), then 429 until the rate allows again. limit_req runs before
 * auth_basic, so every request counts, with or without (right or wrong) credentials: a person
 * paging through the admin view stays well under it, a password guesser gets ~10 tries a minute.
 * nodelay: excess requests are refused at once instead of being queued (no connections held).
 */
export const ADMIN_RATE_PER_MINUTE = 10;
export const ADMIN_BURST = 10;
/** The realm the browser shows in its credentials prompt. */
export const ADMIN_REALM = "pve-ha-stack admin";
/** Shared memory of the limit zones: 1 MB holds ~16000 client addresses (64 bytes each). */
export const ADMIN_ZONE = "admin_auth";
export const POST_ZONE = "post_per_client";
export const TLS_SESSION_CACHE = "shared:pve_ha_tls:10m";
/** HSTS max-age (2 years, Mozilla's recommendation); only sent when plain HTTP redirects. */
export const HSTS_MAX_AGE_SECONDS = 63072000;

/**
 * Mozilla "intermediate" (guidelines 5.7) for nginx 1.22 / OpenSSL 3: TLS 1.2 and 1.3, AEAD
 * ECDHE suites only for TLS 1.2 (the TLS 1.3 suites are OpenSSL's defaults and not set here).
 * The DHE-RSA suites of that list are left out: they need an ssl_dhparam file, and every client
 * the list targets also speaks ECDHE.
 */
export const TLS_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

function fail(message: string): never {
  throw new Error(`nginx: ${message}`);
}

/** An absolute path nginx can take unquoted: no whitespace, quotes, `;`, `{`, `}`, `$` or `#`. */
function checkPath(what: string, value: unknown): void {
  if (typeof value !== "string" || !/^\/[A-Za-z0-9._\/@+,=:-]*$/.test(value) || value === "/") {
    fail(
      `${what} must be an absolute file path without spaces or nginx syntax (got ${JSON.stringify(value)})`,
    );
  }
}

function checkInteger(what: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(`${what} must be an integer ${min}-${max} (got ${String(value)})`);
  }
}

export function httpsPortOf(tls: NginxTlsOptions): number {
  return tls.httpsPort ?? PORTS.https;
}

/** What the LBs put behind basic auth by default: every message is readable there. */
export const ADMIN_PATHS: readonly string[] = ["/admin", "/api/messages"];
/** The app's metrics are for Prometheus, which scrapes each app node directly: never via the LB. */
export const LB_DENIED_PATHS: readonly string[] = ["/metrics"];

export function adminPathsOf(auth: NginxAdminAuthOptions): string[] {
  return auth.paths ?? [...ADMIN_PATHS];
}

/**
 * Locations the LB answers 404 itself: the app's metrics always, and without admin auth the
 * message API too (the admin page stays as it is: that is the lbAdminAuth setting's choice).
 */
export function deniedLocationLines(adminAuth: NginxAdminAuthOptions | undefined): string[] {
  const denied = [...LB_DENIED_PATHS];
  if (!adminAuth) denied.push(...ADMIN_PATHS.filter((p) => p !== "/admin"));
  return denied.flatMap((p) => [
    `    # Not public: ${p === "/metrics" ? "Prometheus scrapes the app nodes directly" : "the stored messages"}.`,
    `    location ${p} {`,
    "      return 404;",
    "    }",
    "",
  ]);
}

export function validateTls(tls: NginxTlsOptions, otherPorts: number[]): void {
  checkPath("tls.certPath", tls.certPath);
  checkPath("tls.keyPath", tls.keyPath);
  if (typeof tls.redirectHttp !== "boolean") {
    fail(`tls.redirectHttp must be true or false (got ${String(tls.redirectHttp)})`);
  }
  const port = httpsPortOf(tls);
  checkInteger("tls.httpsPort", port, 1, 65535);
  if (otherPorts.includes(port)) {
    fail(`tls.httpsPort must differ from the HTTP and stub_status ports (got ${port})`);
  }
}

export function validateAdminAuth(auth: NginxAdminAuthOptions): void {
  checkPath("adminAuth.htpasswdPath", auth.htpasswdPath);
  const paths = adminPathsOf(auth);
  if (!Array.isArray(paths) || paths.length === 0) fail("adminAuth.paths must not be empty");
  for (const p of paths) {
    // "/" would put the public form page and POST /messages behind the password.
    if (typeof p !== "string" || !/^\/[A-Za-z0-9._~\/-]+$/.test(p)) {
      fail(`adminAuth.paths: each must be a path prefix below / (got ${JSON.stringify(p)})`);
    }
  }
  if (new Set(paths).size !== paths.length) {
    fail(`adminAuth.paths must not repeat a path (got ${JSON.stringify(paths)})`);
  }
}

export function validateLimits(limits: NginxLimitOptions): void {
  checkInteger("limits.postRatePerSecond", limits.postRatePerSecond, 0, 100000);
  checkInteger("limits.postBurst", limits.postBurst, 0, 100000);
  if (limits.postRatePerSecond === 0 && limits.postBurst !== 0) {
    fail(`limits.postBurst must be 0 without a POST rate (got ${limits.postBurst})`);
  }
  // 0 would switch nginx's body size check off.
  checkInteger("limits.maxBodyBytes", limits.maxBodyBytes, 1, 1024 * 1024 * 1024);
}

/** http-level lines: the limit zones (empty when neither option is set). */
export function httpLevelLines(
  adminAuth: NginxAdminAuthOptions | undefined,
  limits: NginxLimitOptions | undefined,
): string[] {
  const lines: string[] = [];
  if (limits && postLimited(limits)) {
    lines.push(
      "  # Per-client POST limit: the key is the client address for POST, empty (not counted) for",
      "  # every other method, so GETs of the form page, health and admin views never count.",
      "  map $request_method $pve_ha_post_client {",
      "    POST $binary_remote_addr;",
      '    default "";',
      "  }",
      `  limit_req_zone $pve_ha_post_client zone=${POST_ZONE}:10m rate=${limits.postRatePerSecond}r/s;`,
    );
  }
  if (adminAuth) {
    lines.push(
      "  # Brute-force brake of the admin pages, per client address (see ADMIN_RATE_PER_MINUTE).",
      `  limit_req_zone $binary_remote_addr zone=${ADMIN_ZONE}:1m rate=${ADMIN_RATE_PER_MINUTE}r/m;`,
    );
  }
  return lines;
}

/** A POST rate limit is set (postRatePerSecond 0 only limits the body size). */
export function postLimited(limits: NginxLimitOptions | undefined): boolean {
  return limits !== undefined && limits.postRatePerSecond > 0;
}

/** Directives of the TLS server after its listen line. */
export function tlsServerLines(tls: NginxTlsOptions): string[] {
  return [
    `    ssl_certificate ${tls.certPath};`,
    `    ssl_certificate_key ${tls.keyPath};`,
    "    ssl_protocols TLSv1.2 TLSv1.3;",
    `    ssl_ciphers ${TLS_CIPHERS};`,
    "    # Clients pick among the (all strong) suites: the fastest for their hardware.",
    "    ssl_prefer_server_ciphers off;",
    `    ssl_session_cache ${TLS_SESSION_CACHE};`,
    "    ssl_session_timeout 1d;",
    "    # Tickets' keys would never rotate (no restart): resumption uses the shared cache.",
    "    ssl_session_tickets off;",
  ];
}

/** Server-level limit lines of a server that proxies (inherited by every location). */
export function limitServerLines(limits: NginxLimitOptions): string[] {
  if (!postLimited(limits)) return [`    client_max_body_size ${limits.maxBodyBytes};`];
  return [
    `    client_max_body_size ${limits.maxBodyBytes};`,
    "    # Every POST of a client counts, on any path: the app's only POST is /messages, and a",
    "    # per-location limit could be sidestepped by another spelling of that path.",
    `    limit_req zone=${POST_ZONE} burst=${limits.postBurst} nodelay;`,
    "    limit_req_status 429;",
  ];
}

/** The HSTS header line for a location (add_header in a location hides the server's ones). */
export function hstsLine(indent: string): string {
  return `${indent}add_header Strict-Transport-Security "max-age=${HSTS_MAX_AGE_SECONDS}" always;`;
}

/**
 * Locations behind basic auth: `location <prefix>` matches the page and anything under it (after
 * nginx normalised the URI: %-escapes, `//`, `/./`). A location with limit_req of its own does not
 * inherit the server's: the POST limit is repeated next to the admin zone (which counts every
 * method).
 */
export function adminLocationLines(
  auth: NginxAdminAuthOptions,
  proxyLines: string[],
  limits: NginxLimitOptions | undefined,
): string[] {
  const out: string[] = [];
  for (const p of adminPathsOf(auth)) {
    out.push(
      `    location ${p} {`,
      `      limit_req zone=${ADMIN_ZONE} burst=${ADMIN_BURST} nodelay;`,
      ...(limits && postLimited(limits)
        ? [`      limit_req zone=${POST_ZONE} burst=${limits.postBurst} nodelay;`]
        : []),
      "      limit_req_status 429;",
      `      auth_basic "${ADMIN_REALM}";`,
      `      auth_basic_user_file ${auth.htpasswdPath};`,
      "      # The app does not use the credentials: they stay at the LB (and out of app logs).",
      '      proxy_set_header Authorization "";',
      ...proxyLines,
      "    }",
      "",
    );
  }
  return out;
}

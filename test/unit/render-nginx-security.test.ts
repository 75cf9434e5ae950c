import * as assert from "assert";
import { createHash } from "crypto";
import { PORTS } from "../../components/config/ports";
import {
  nginxReadTimeoutSeconds,
  renderNginxConf,
  type NginxConfOptions,
} from "../../components/render/nginx";
import {
  ADMIN_PATHS,
  deniedLocationLines,
  TLS_CIPHERS,
} from "../../components/render/nginxSecurity";

const BASE: NginxConfOptions = {
  upstreams: [
    { name: "webserver1", host: "10.0.0.11", port: PORTS.app },
    { name: "webserver2", host: "10.0.0.12", port: PORTS.app },
  ],
  algorithm: "round_robin",
  maxFails: 1,
  failTimeoutSeconds: 10,
  connectTimeoutMs: 500,
  readTimeoutSeconds: nginxReadTimeoutSeconds(15000),
  listenPort: PORTS.http,
  stubStatusPort: PORTS.nginxStubStatus,
};

const TLS = { certPath: "/etc/nginx/tls/lb.crt", keyPath: "/etc/nginx/tls/lb.key" };
const AUTH = { htpasswdPath: "/etc/nginx/htpasswd" };
const LIMITS = { postRatePerSecond: 20, postBurst: 40, maxBodyBytes: 65536 };

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** The text of one `server { ... }` block whose listen line contains `listen`. */
function serverBlock(conf: string, listen: string): string {
  const start = conf.indexOf(`  server {\n    listen ${listen}`);
  assert.ok(start >= 0, `no server listening on ${listen}`);
  return conf.slice(start, conf.indexOf("\n  }\n", start) + 4);
}

/** The text of `location <path> { ... }` inside a server block. */
function locationBlock(server: string, path: string): string {
  const start = server.indexOf(`    location ${path} {\n`);
  assert.ok(start >= 0, `no location ${path}`);
  return server.slice(start, server.indexOf("\n    }\n", start) + 6);
}

describe("render: nginx.conf front door (tls, adminAuth, limits)", () => {
  it("without the new options renders byte for byte what it rendered before them, plus the denied paths", () => {
    // sha256 and length of renderNginxConf's output captured before the options existed; since
    // then the app's /metrics and /api/messages are answered 404 by the LB (deniedLocationLines).
    const before: Array<[NginxConfOptions, number, string]> = [
      [BASE, 2673, "28aceef0694bdeeacef51d078140b70c866973f43534e1affc4dd4ddb9692204"],
      [
        {
          ...BASE,
          algorithm: "least_conn",
          pidFile: "/tmp/x/nginx.pid",
          logDir: "/tmp/x",
          user: "root",
        },
        2670,
        "4959f185c48e912c9ad9b458861578d0d1f728b4863795c5dfd295786139d1c3",
      ],
      [
        {
          ...BASE,
          algorithm: "ip_hash",
          upstreams: [
            ...BASE.upstreams,
            { name: "webserver3", host: "10.0.0.13", port: PORTS.app + 1 },
          ],
          maxFails: 3,
          readTimeoutSeconds: 33,
        },
        2751,
        "7f32e91a5dedb5115eee8a2fe470adc37767601931b384c4c190b6d303153059",
      ],
    ];
    const denied = deniedLocationLines(undefined).join("\n") + "\n";
    for (const [opts, length, hash] of before) {
      const withDenied = renderNginxConf(opts);
      assert.strictEqual(withDenied.split(denied).length, 2, "the denied locations, once");
      const conf = withDenied.replace(denied, "");
      assert.strictEqual(conf.length, length, opts.algorithm);
      assert.strictEqual(sha256(conf), hash, opts.algorithm);
      const explicit = { ...opts, tls: undefined, adminAuth: undefined, limits: undefined };
      assert.strictEqual(
        renderNginxConf(explicit),
        withDenied,
        "undefined options = absent options",
      );
    }
  });

  it("never proxies /metrics; /api/messages behind the admin auth, else 404", () => {
    const plain = renderNginxConf(BASE);
    assert.match(plain, /location \/metrics \{\n {6}return 404;\n {4}\}/);
    assert.match(plain, /location \/api\/messages \{\n {6}return 404;\n {4}\}/);
    const auth = renderNginxConf({ ...BASE, adminAuth: AUTH });
    assert.match(auth, /location \/metrics \{\n {6}return 404;/);
    for (const path of ADMIN_PATHS) {
      const block = locationBlock(serverBlock(auth, `${PORTS.http} `), path);
      assert.ok(block.includes("auth_basic_user_file"), path);
      assert.ok(!block.includes("return 404"), path);
    }
  });

  it("tls with redirectHttp: plain HTTP only redirects, TLS server with HTTP/2 and HSTS", () => {
    const conf = renderNginxConf({ ...BASE, tls: { ...TLS, redirectHttp: true } });
    const plain = serverBlock(conf, `${PORTS.http} `);
    assert.ok(plain.includes("    return 301 https://$host$request_uri;\n"), plain);
    assert.ok(!plain.includes("proxy_pass"), "the plain server proxies nothing");
    const tls = serverBlock(conf, `${PORTS.https} `);
    for (const line of [
      `listen ${PORTS.https} ssl http2 default_server;`,
      "ssl_certificate /etc/nginx/tls/lb.crt;",
      "ssl_certificate_key /etc/nginx/tls/lb.key;",
      "ssl_protocols TLSv1.2 TLSv1.3;",
      `ssl_ciphers ${TLS_CIPHERS};`,
      "ssl_prefer_server_ciphers off;",
      "ssl_session_cache shared:pve_ha_tls:10m;",
      "ssl_session_timeout 1d;",
      "ssl_session_tickets off;",
      "client_max_body_size 1m;",
      "proxy_set_header X-Forwarded-Proto $scheme;",
    ]) {
      assert.ok(tls.includes(`    ${line}\n`), line);
    }
    assert.ok(!/TLSv1(\.1)?[ ;]|SSLv|RC4|3DES|CBC|SHA1?[:;]/.test(TLS_CIPHERS + tls), tls);
    // add_header in a location hides the server's: HSTS must sit next to X-Upstream-Addr.
    assert.ok(
      locationBlock(tls, "/").includes(
        '      add_header Strict-Transport-Security "max-age=63072000" always;\n',
      ),
    );
    // keepalived's health check and stub_status: the loopback server as without TLS.
    const stub = serverBlock(renderNginxConf(BASE), `127.0.0.1:${PORTS.nginxStubStatus}`);
    assert.strictEqual(serverBlock(conf, `127.0.0.1:${PORTS.nginxStubStatus}`), stub);
  });

  it("tls without redirectHttp: plain HTTP serves as before, no HSTS anywhere", () => {
    const before = renderNginxConf(BASE);
    const conf = renderNginxConf({ ...BASE, tls: { ...TLS, redirectHttp: false } });
    assert.strictEqual(serverBlock(conf, `${PORTS.http} `), serverBlock(before, `${PORTS.http} `));
    assert.ok(conf.includes(`listen ${PORTS.https} ssl http2 default_server;`));
    assert.ok(!conf.includes("Strict-Transport-Security"));
  });

  it("a non-default https port is kept in the redirect", () => {
    const conf = renderNginxConf({
      ...BASE,
      tls: { ...TLS, redirectHttp: true, httpsPort: PORTS.https + 8000 },
    });
    assert.ok(conf.includes("return 301 https://$host:8443$request_uri;"));
    assert.ok(conf.includes("listen 8443 ssl http2 default_server;"));
  });

  it("adminAuth: /admin and below need credentials and are rate limited; / stays public", () => {
    const conf = renderNginxConf({ ...BASE, adminAuth: AUTH });
    assert.ok(
      conf.includes(
        "  limit_req_zone $binary_remote_addr zone=admin_auth:1m rate=10r/m;\n\n  upstream",
      ),
    );
    const server = serverBlock(conf, `${PORTS.http} `);
    // A prefix location: /admin, /admin?page=2 and /admin/... all match it.
    const admin = locationBlock(server, "/admin");
    for (const line of [
      "limit_req zone=admin_auth burst=10 nodelay;",
      "limit_req_status 429;",
      'auth_basic "pve-ha-stack admin";',
      "auth_basic_user_file /etc/nginx/htpasswd;",
      'proxy_set_header Authorization "";',
      "proxy_pass http://app_nodes;",
      "proxy_next_upstream error timeout non_idempotent;",
    ]) {
      assert.ok(admin.includes(`      ${line}\n`), line);
    }
    const root = locationBlock(server, "/");
    assert.ok(!/auth_basic|limit_req/.test(root), "the form page and POST /messages stay public");
    assert.ok(!/\n    (auth_basic|limit_req)/.test(server), "nothing server-wide");
    assert.ok(!conf.includes("Strict-Transport-Security"));
  });

  it("adminAuth.paths protects each prefix (e.g. the JSON view of the same rows)", () => {
    const conf = renderNginxConf({
      ...BASE,
      adminAuth: { ...AUTH, paths: ["/admin", "/api/messages"] },
    });
    const server = serverBlock(conf, `${PORTS.http} `);
    for (const p of ["/admin", "/api/messages"]) {
      assert.ok(locationBlock(server, p).includes("auth_basic_user_file /etc/nginx/htpasswd;"), p);
    }
  });

  it("limits: per-client POST limit keyed by a method map, 429, body size 413", () => {
    const conf = renderNginxConf({ ...BASE, limits: LIMITS });
    assert.ok(
      conf.includes(
        "  map $request_method $pve_ha_post_client {\n" +
          "    POST $binary_remote_addr;\n" +
          '    default "";\n' +
          "  }\n" +
          "  limit_req_zone $pve_ha_post_client zone=post_per_client:10m rate=20r/s;\n",
      ),
      "only POSTs have a key (requests with an empty key are not counted), one per client",
    );
    const server = serverBlock(conf, `${PORTS.http} `);
    assert.ok(server.includes("    client_max_body_size 65536;\n"));
    assert.ok(!server.includes("client_max_body_size 1m;"));
    assert.ok(server.includes("    limit_req zone=post_per_client burst=40 nodelay;\n"));
    assert.ok(server.includes("    limit_req_status 429;\n"));
    assert.ok(!/limit_req/.test(locationBlock(server, "/")), "inherited from the server");
  });

  it("limits with postRatePerSecond 0: only the body size, no POST zone or limit_req", () => {
    const limits = { postRatePerSecond: 0, postBurst: 0, maxBodyBytes: 4096 };
    const conf = renderNginxConf({ ...BASE, limits, adminAuth: AUTH });
    assert.match(conf, /^    client_max_body_size 4096;$/m);
    assert.ok(!conf.includes("post_per_client"), conf);
    assert.ok(!conf.includes("$pve_ha_post_client"), conf);
    assert.match(conf, /limit_req zone=admin_auth burst=10 nodelay;/);
  });

  it("all three: the admin location keeps the POST limit, both servers when not redirecting", () => {
    const all = { tls: { ...TLS, redirectHttp: false }, adminAuth: AUTH, limits: LIMITS };
    const conf = renderNginxConf({ ...BASE, ...all });
    for (const listen of [`${PORTS.http} `, `${PORTS.https} `]) {
      const server = serverBlock(conf, listen);
      const admin = locationBlock(server, "/admin");
      assert.ok(admin.includes("limit_req zone=admin_auth burst=10 nodelay;"), listen);
      assert.ok(admin.includes("limit_req zone=post_per_client burst=40 nodelay;"), listen);
      assert.ok(server.includes("    client_max_body_size 65536;\n"), listen);
    }
    const redirecting = renderNginxConf({ ...BASE, ...all, tls: { ...TLS, redirectHttp: true } });
    // One TLS server proxies: each admin path once.
    assert.strictEqual(
      (redirecting.match(/auth_basic_user_file/g) ?? []).length,
      ADMIN_PATHS.length,
    );
    assert.strictEqual((redirecting.match(/limit_req_zone/g) ?? []).length, 2);
  });

  it("rejects bad option values, naming them", () => {
    const bad: Array<[Partial<NginxConfOptions>, RegExp]> = [
      [
        { tls: { ...TLS, certPath: "lb.crt", redirectHttp: true } },
        /nginx: tls\.certPath must be an absolute file path .*\(got "lb\.crt"\)/,
      ],
      [
        { tls: { ...TLS, keyPath: "/etc/k; evil", redirectHttp: true } },
        /tls\.keyPath .*\(got "\/etc\/k; evil"\)/,
      ],
      [
        { tls: { ...TLS, redirectHttp: "yes" as unknown as boolean } },
        /tls\.redirectHttp must be true or false \(got yes\)/,
      ],
      [
        { tls: { ...TLS, redirectHttp: true, httpsPort: PORTS.http } },
        /tls\.httpsPort must differ from the HTTP and stub_status ports \(got 80\)/,
      ],
      [
        { tls: { ...TLS, redirectHttp: true, httpsPort: 70000 } },
        /tls\.httpsPort must be an integer 1-65535 \(got 70000\)/,
      ],
      [{ adminAuth: { htpasswdPath: "" } }, /adminAuth\.htpasswdPath .*\(got ""\)/],
      [{ adminAuth: { ...AUTH, paths: [] } }, /adminAuth\.paths must not be empty/],
      [
        { adminAuth: { ...AUTH, paths: ["/"] } },
        /adminAuth\.paths: each must be a path prefix below \/ \(got "\/"\)/,
      ],
      [{ adminAuth: { ...AUTH, paths: ["admin"] } }, /\(got "admin"\)/],
      [{ adminAuth: { ...AUTH, paths: ["/admin", "/admin"] } }, /must not repeat a path/],
      [
        { limits: { ...LIMITS, postRatePerSecond: 0.5 } },
        /limits\.postRatePerSecond must be an integer 0-100000 \(got 0\.5\)/,
      ],
      [
        { limits: { ...LIMITS, postBurst: -1 } },
        /limits\.postBurst must be an integer 0-100000 \(got -1\)/,
      ],
      [
        { limits: { ...LIMITS, postRatePerSecond: 0 } },
        /limits\.postBurst must be 0 without a POST rate \(got 40\)/,
      ],
      [
        { limits: { ...LIMITS, maxBodyBytes: 0 } },
        /limits\.maxBodyBytes must be an integer 1-1073741824 \(got 0\)/,
      ],
    ];
    for (const [opts, error] of bad) {
      assert.throws(() => renderNginxConf({ ...BASE, ...opts }), error, JSON.stringify(opts));
    }
  });
});

/**
 * The LB's nginx.conf with every front-door option (TLS with the HTTP redirect, basic auth on
 * /admin, per-client POST limits) for a loopback run of the real-tool check
 * (scripts/ci/check-rendered.sh). Writes into <out-dir>:
 *   nginx.conf   the example stack's LB settings, one upstream (a local stand-in), loopback listens
 *   ports        "<http> <https> <stub_status> <backend>" for the shell
 * and names, for the check to create: tls.crt, tls.key (self-signed), htpasswd.
 */
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../../components/config";
import { PORTS } from "../../components/config/ports";
import { nginxReadTimeoutSeconds, renderNginxConf } from "../../components/render/nginx";
import { exampleRaw } from "../../test/unit/program-harness";

/**
 * Loopback ports: the service's own port + 20000 (20080, 20443, 28081, 23000), below the kernel's
 * ephemeral range (32768-60999) and clear of the other loopback checks (18080, 13001, 15000...).
 */
const LOOPBACK_OFFSET = 20000;
export const LOOPBACK_SECURE_LB = {
  http: LOOPBACK_OFFSET + PORTS.http,
  https: LOOPBACK_OFFSET + PORTS.https,
  stubStatus: LOOPBACK_OFFSET + PORTS.nginxStubStatus,
  backend: LOOPBACK_OFFSET + PORTS.app,
};

/**
 * Limits small enough for a short sequential burst to hit them: 2 POSTs/s, 4 above that at once,
 * bodies up to 1 KiB.
 */
export const LOOPBACK_SECURE_LIMITS = { postRatePerSecond: 2, postBurst: 4, maxBodyBytes: 1024 };

function main(): void {
  const out = process.argv[2];
  if (!out) throw new Error("usage: render-nginx-secure.ts <out-dir>");
  const { config, errors } = parseConfig(exampleRaw());
  if (!config) throw new Error(errors.join("\n"));
  const p = LOOPBACK_SECURE_LB;
  fs.mkdirSync(out, { recursive: true });
  const conf = renderNginxConf({
    upstreams: [{ name: "webserver1", host: "127.0.0.1", port: p.backend }],
    algorithm: config.lb.algorithm,
    maxFails: config.lb.maxFails,
    failTimeoutSeconds: config.lb.failTimeoutSeconds,
    connectTimeoutMs: config.lb.connectTimeoutMs,
    readTimeoutSeconds: nginxReadTimeoutSeconds(config.app.kafkaPublishDeadlineMs),
    listenPort: p.http,
    stubStatusPort: p.stubStatus,
    pidFile: path.join(out, "nginx.pid"),
    logDir: out,
    tls: {
      certPath: path.join(out, "tls.crt"),
      keyPath: path.join(out, "tls.key"),
      redirectHttp: true,
      httpsPort: p.https,
    },
    adminAuth: { htpasswdPath: path.join(out, "htpasswd") },
    limits: LOOPBACK_SECURE_LIMITS,
  });
  const loopback = conf
    .replace(`listen ${p.http} default_server;`, `listen 127.0.0.1:${p.http} default_server;`)
    .replace(`listen ${p.https} ssl`, `listen 127.0.0.1:${p.https} ssl`);
  if (loopback.split("listen 127.0.0.1:").length !== 4) {
    throw new Error("render-nginx-secure: not every listen could be bound to 127.0.0.1");
  }
  fs.writeFileSync(path.join(out, "nginx.conf"), loopback);
  fs.writeFileSync(path.join(out, "ports"), `${p.http} ${p.https} ${p.stubStatus} ${p.backend}\n`);
}

main();

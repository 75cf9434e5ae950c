/**
 * Runs the program for the example stack (Pulumi.dev.yaml + placeholder secrets) under Pulumi
 * mocks and writes what it would send to the Proxmox host into <out-dir>:
 *   payloads/<step>.sh   every script run with `pct exec <vmid> -- bash -s` (exact stdin), also
 *                        the steps only EVERY_OPTION_ON adds (nginx-frontdoor, nftables-configure)
 *                        and those only pgFailover auto adds (etcd-configure, patroni-configure,
 *                        pg-app-setup)
 *   files/<step>         every file pushed with `pct push` from stdin
 *   nginx-loopback/      the LB config for a loopback run (see loopbackNginxConf)
 *   haproxy-loopback/    the PostgreSQL proxy config for a loopback run (see loopbackHaproxyCfg)
 * The real-tool checks (scripts/ci/check-rendered.sh) read the deployed configs out of these.
 */
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../../components/config";
import { renderHaproxyCfg } from "../../components/render/haproxy";
import { nginxReadTimeoutSeconds, renderNginxConf } from "../../components/render/nginx";
import { EVERY_OPTION_ON, exampleRaw, reveal, runProgram } from "../../test/unit/program-harness";

/** Ports of the loopback LB check (check-rendered.sh starts the two app stand-ins on them). */
/**
 * Loopback ports of the real-tool checks: below the kernel's ephemeral range (32768-60999), so no
 * client socket of the checks themselves can hold one when a server binds it.
 */
export const LOOPBACK_LB = { listen: 18080, stubStatus: 18081, backends: [13001, 13002] };

/**
 * The example stack's LB settings rendered for loopback: same renderer and settings, upstreams
 * replaced by two local ports, pid and logs in the output dir.
 */
function loopbackNginxConf(out: string): string {
  const { config, errors } = parseConfig(exampleRaw());
  if (!config) throw new Error(errors.join("\n"));
  return renderNginxConf({
    upstreams: LOOPBACK_LB.backends.map((port, i) => ({
      name: `webserver${i + 1}`,
      host: "127.0.0.1",
      port,
    })),
    algorithm: config.lb.algorithm,
    maxFails: config.lb.maxFails,
    failTimeoutSeconds: config.lb.failTimeoutSeconds,
    connectTimeoutMs: config.lb.connectTimeoutMs,
    readTimeoutSeconds: nginxReadTimeoutSeconds(config.app.kafkaPublishDeadlineMs),
    listenPort: LOOPBACK_LB.listen,
    stubStatusPort: LOOPBACK_LB.stubStatus,
    pidFile: path.join(out, "nginx-loopback", "nginx.pid"),
    logDir: path.join(out, "nginx-loopback"),
  }).replace(
    `listen ${LOOPBACK_LB.listen} default_server;`,
    `listen 127.0.0.1:${LOOPBACK_LB.listen} default_server;`,
  );
}

/** Ports of the loopback PostgreSQL proxy check; nothing listens on the servers' ports. */
export const LOOPBACK_PGPROXY = {
  readWrite: 15000,
  readOnly: 15001,
  stats: 18404,
  pg: 15432,
  roleCheck: 18008,
};

/**
 * The PostgreSQL proxy rendered for loopback: same renderer, both servers on local ports where
 * nothing answers (every health check fails), binds on 127.0.0.1, socket in the output dir.
 */
function loopbackHaproxyCfg(out: string): string {
  const p = LOOPBACK_PGPROXY;
  return renderHaproxyCfg({
    primary: { name: "pg1", host: "127.0.0.1" },
    standby: { name: "pg2", host: "127.0.0.1" },
    pgPort: p.pg,
    roleCheckPort: p.roleCheck,
    readWritePort: p.readWrite,
    readOnlyPort: p.readOnly,
    statsPort: p.stats,
    statsSocket: path.join(out, "haproxy-loopback", "admin.sock"),
    user: "root",
  }).replace(/^ {2}bind :(\d+)$/gm, "  bind 127.0.0.1:$1");
}

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error("usage: render-example.ts <out-dir>");
  const run = await runProgram(exampleRaw());
  const names = new Set(run.resources.map((r) => r.name));
  const optional = [];
  for (const changes of [EVERY_OPTION_ON, { pgFailover: "auto" }]) {
    const extra = (await runProgram(exampleRaw(changes))).resources.filter(
      (r) => !names.has(r.name),
    );
    extra.forEach((r) => names.add(r.name));
    optional.push(...extra);
  }
  let payloads = 0;
  let files = 0;
  for (const r of [...run.resources, ...optional]) {
    if (r.type !== "command:remote:Command") continue;
    const create = String(reveal(r.inputs.create) ?? "");
    const stdin = reveal(r.inputs.stdin);
    if (typeof stdin !== "string") continue;
    const kind = /^pct exec \d+ -- bash -s$/.test(create)
      ? "payloads"
      : /pct push/.test(create)
        ? "files"
        : "";
    if (!kind) continue;
    const file = path.join(out, kind, kind === "payloads" ? `${r.name}.sh` : r.name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, stdin);
    if (kind === "payloads") payloads++;
    else files++;
  }
  fs.mkdirSync(path.join(out, "nginx-loopback"), { recursive: true });
  fs.writeFileSync(path.join(out, "nginx-loopback", "nginx.conf"), loopbackNginxConf(out));
  fs.mkdirSync(path.join(out, "haproxy-loopback"), { recursive: true });
  fs.writeFileSync(path.join(out, "haproxy-loopback", "haproxy.cfg"), loopbackHaproxyCfg(out));
  console.log(`rendered ${payloads} payloads and ${files} pushed files into ${out}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

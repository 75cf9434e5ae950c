/**
 * Renders what check-patroni.sh runs for real, with the example stack's settings and loopback
 * addresses (inside a network namespace of the check's own), into <out-dir>:
 *   etcd-<name>.env   /etc/default/etcd of each of the 3 members (127.0.0.11-13)
 *   patroni.yml       one Patroni node (127.0.0.21), data under <out-dir>/pg
 *   dynamic.yml       its dynamic configuration as patroni-configure applies it (= bootstrap.dcs)
 *   dynamic-changed.yml  the same after a change: synchronous_mode on, ttl 9, pgParameters
 *                     work_mem (a reload) and max_connections (a restart)
 *   rest-auth         user:password of the REST API's unsafe endpoints
 *   haproxy.cfg       the PostgreSQL proxy with Patroni's checks (render/haproxy.ts)
 *   app-setup.sql     what pg-app-setup runs on the leader (renderPrimarySetupSql, no slot)
 *   app-database      the app database's name
 * Usage: ts-node scripts/ci/render-patroni.ts <out-dir>
 */
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../../components/config";
import {
  etcdClientHosts,
  renderEtcdEnv,
  renderEtcdLeaderKeeperScript,
  type EtcdMember,
} from "../../components/render/etcd";
import { renderHaproxyCfg } from "../../components/render/haproxy";
import {
  PATRONI_BASE_CONF_NAME,
  PATRONI_REST_USER,
  renderPatroniBaseConf,
  renderPatroniConfig,
  renderPatroniDynamicConfig,
  type PatroniDynamicOptions,
} from "../../components/render/patroni";
import { renderPatroniWrapper } from "../../components/render/patroniRelease";
import { renderPrimarySetupSql } from "../../components/render/postgres";
import { exampleRaw } from "../../test/unit/program-harness";

/** Below the kernel's ephemeral range, like the other loopback checks. */
export const LOOPBACK_PATRONI = {
  etcdClient: 12379,
  etcdPeer: 12380,
  pg: 15433,
  restApi: 18009,
  node: { name: "pg1", ip: "127.0.0.21" },
  haproxy: { readWrite: 15010, readOnly: 15011, stats: 18405 },
};

const MEMBERS: EtcdMember[] = [
  { name: "etcd1", ip: "127.0.0.11" },
  { name: "etcd2", ip: "127.0.0.12" },
  { name: "etcd3", ip: "127.0.0.13" },
];

function main(out: string): void {
  const { config, errors } = parseConfig(exampleRaw());
  if (!config) throw new Error(errors.join("\n"));
  const L = LOOPBACK_PATRONI;
  fs.mkdirSync(out, { recursive: true });
  for (const self of MEMBERS) {
    const env = renderEtcdEnv({
      self,
      members: MEMBERS,
      clusterToken: "pve-ha-check",
      dataDir: path.join(out, "etcd", self.name),
      clientPort: L.etcdClient,
      peerPort: L.etcdPeer,
      listenLoopback: false,
    });
    fs.writeFileSync(path.join(out, `etcd-${self.name}.env`), env);
  }
  const dynamic: PatroniDynamicOptions = {
    timings: config.pg.failover.patroni,
    synchronous: config.pg.failover.synchronous,
    postgres: {
      port: L.pg,
      sharedBuffersMb: 32,
      maxSlotWalKeepSize: config.pg.maxSlotWalKeepSize,
      parameters: config.pg.parameters,
    },
  };
  const changed: PatroniDynamicOptions = {
    timings: { ...dynamic.timings, ttlSeconds: 9 },
    synchronous: !dynamic.synchronous,
    postgres: {
      ...dynamic.postgres,
      parameters: { ...dynamic.postgres.parameters, work_mem: "8MB", max_connections: "150" },
    },
  };
  const restPassword = "check-rest";
  // The witness's leader keeper, as the last member's.
  fs.writeFileSync(
    path.join(out, "etcd-leader-keeper"),
    renderEtcdLeaderKeeperScript({ self: MEMBERS[2], members: MEMBERS, clientPort: L.etcdClient }),
    { mode: 0o755 },
  );
  const patroni = renderPatroniConfig({
    ...dynamic,
    scope: "pve-ha-check",
    self: L.node,
    etcdHosts: etcdClientHosts(MEMBERS, L.etcdClient),
    hba: {
      database: config.pg.database,
      appUser: config.pg.appUser,
      replicationUser: config.pg.replicationUser,
      replicationClients: [L.node.ip],
      appClients: ["127.0.0.1"],
    },
    passwords: {
      superuser: "check-super",
      replication: "check-repl",
      rewind: "check-rewind",
      restApi: restPassword,
    },
    restApiPort: L.restApi,
    dataDir: path.join(out, "pg", "data"),
    configDir: path.join(out, "pg", "conf"),
    pgpassPath: path.join(out, "pg", "pgpass"),
    socketDir: path.join(out, "pg"),
  });
  fs.writeFileSync(path.join(out, "patroni.yml"), patroni, { mode: 0o600 });
  // Debian's layout: config_dir apart from data_dir, holding the included base conf.
  fs.mkdirSync(path.join(out, "pg", "conf"), { recursive: true });
  fs.writeFileSync(path.join(out, "pg", "conf", PATRONI_BASE_CONF_NAME), renderPatroniBaseConf());
  // patroni and patronictl: the wheel the containers run, unpacked by check-patroni.sh.
  fs.mkdirSync(path.join(out, "bin"), { recursive: true });
  for (const entry of ["patroni", "patronictl"] as const)
    fs.writeFileSync(
      path.join(out, "bin", entry),
      renderPatroniWrapper(entry, path.join(out, "patroni-home")),
      { mode: 0o755 },
    );
  fs.writeFileSync(path.join(out, "dynamic.yml"), renderPatroniDynamicConfig(dynamic));
  fs.writeFileSync(path.join(out, "dynamic-changed.yml"), renderPatroniDynamicConfig(changed));
  fs.writeFileSync(path.join(out, "rest-auth"), `${PATRONI_REST_USER}:${restPassword}`, {
    mode: 0o600,
  });
  const haproxy = renderHaproxyCfg({
    primary: { name: "pg1", host: L.node.ip },
    standby: { name: "pg2", host: "127.0.0.22" },
    pgPort: L.pg,
    roleCheckPort: L.restApi,
    readWritePort: L.haproxy.readWrite,
    readOnlyPort: L.haproxy.readOnly,
    statsPort: L.haproxy.stats,
    statsSocket: path.join(out, "haproxy.sock"),
    user: "root",
    patroniChecks: config.pg.failover.haproxyCheck,
  });
  fs.writeFileSync(path.join(out, "haproxy.cfg"), haproxy);
  const sql = renderPrimarySetupSql({
    database: config.pg.database,
    appUser: config.pg.appUser,
    replicationUser: config.pg.replicationUser,
  });
  fs.writeFileSync(path.join(out, "app-setup.sql"), sql);
  fs.writeFileSync(path.join(out, "app-database"), config.pg.database);
}

main(process.argv[2] ?? fail("usage: render-patroni.ts <out-dir>"));

function fail(message: string): never {
  throw new Error(message);
}

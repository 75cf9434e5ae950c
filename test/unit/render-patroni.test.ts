import * as assert from "assert";
import { parse } from "yaml";
import { PATRONI_LIMITS, PATRONI_TIMINGS_DEFAULT } from "../../components/config/pgFailover";
import { etcdMinLeaseTtlMs } from "../../components/render/etcd";
import {
  patroniParameters,
  renderPatroniConfig,
  renderPatroniDropIn,
  type PatroniConfigOptions,
} from "../../components/render/patroni";
import { RESTART_POLICY } from "../../components/render/restartPolicy";

const OPTS: PatroniConfigOptions = {
  scope: "pve-ha",
  self: { name: "pg1", ip: "10.0.0.21" },
  etcdHosts: ["10.0.0.21:2379", "10.0.0.22:2379", "10.0.0.30:2379"],
  timings: PATRONI_TIMINGS_DEFAULT,
  synchronous: false,
  postgres: { port: 5432, sharedBuffersMb: 256, maxSlotWalKeepSize: "1GB" },
  hba: {
    database: "messages",
    appUser: "app",
    replicationUser: "replicator",
    replicationClients: ["10.0.0.21", "10.0.0.22"],
    appClients: ["10.0.0.11", "10.0.0.30"],
  },
  passwords: { superuser: "s3cr'et: #1", replication: "on", rewind: "r" },
};

interface PatroniYaml {
  scope: string;
  name: string;
  restapi: { listen: string; connect_address: string };
  etcd3: { hosts: string[] };
  bootstrap: {
    dcs: {
      ttl: number;
      loop_wait: number;
      retry_timeout: number;
      synchronous_mode: boolean;
      synchronous_mode_strict: boolean;
      postgresql: {
        use_pg_rewind: boolean;
        use_slots: boolean;
        parameters: Record<string, string>;
      };
    };
    initdb: Array<string | Record<string, string>>;
  };
  postgresql: {
    listen: string;
    connect_address: string;
    data_dir: string;
    bin_dir: string;
    config_dir: string;
    authentication: Record<string, { username: string; password: string }>;
    pg_hba: string[];
  };
  watchdog: { mode: string };
  tags: Record<string, boolean>;
}

function rendered(change: Partial<PatroniConfigOptions> = {}): PatroniYaml {
  // Read as YAML 1.1, as Patroni's PyYAML does.
  return parse(renderPatroniConfig({ ...OPTS, ...change }), { version: "1.1" }) as PatroniYaml;
}

describe("render: Patroni (pgFailover auto)", () => {
  it("names the node, its REST API on 8008 and the three etcd members", () => {
    const y = rendered();
    assert.strictEqual(y.scope, "pve-ha");
    assert.strictEqual(y.name, "pg1");
    assert.deepStrictEqual(y.restapi, {
      listen: "10.0.0.21:8008",
      connect_address: "10.0.0.21:8008",
    });
    assert.deepStrictEqual(y.etcd3.hosts, OPTS.etcdHosts);
  });

  it("puts the timings and the failover rules in bootstrap.dcs", () => {
    const dcs = rendered({ synchronous: true }).bootstrap.dcs;
    assert.strictEqual(dcs.ttl, 7);
    assert.strictEqual(dcs.loop_wait, 1);
    assert.strictEqual(dcs.retry_timeout, 3);
    assert.strictEqual(dcs.synchronous_mode, true);
    assert.strictEqual(dcs.synchronous_mode_strict, false);
    assert.strictEqual(dcs.postgresql.use_pg_rewind, true);
    assert.strictEqual(dcs.postgresql.use_slots, true);
    assert.strictEqual(rendered().bootstrap.dcs.synchronous_mode, false);
  });

  it("takes today's PostgreSQL parameters, as strings, minus what Patroni sets", () => {
    const params = rendered().bootstrap.dcs.postgresql.parameters;
    assert.strictEqual(params.shared_buffers, "256MB");
    assert.strictEqual(params.wal_log_hints, "on");
    assert.strictEqual(params.hot_standby_feedback, "on");
    assert.strictEqual(params.password_encryption, "scram-sha-256");
    assert.strictEqual(params.log_line_prefix, "%m [%p] %q%u@%d ");
    for (const owned of ["listen_addresses", "port", "synchronous_standby_names"]) {
      assert.ok(!(owned in params), owned);
    }
    for (const value of Object.values(params)) assert.strictEqual(typeof value, "string");
  });

  it("carries pgParameters through, unquoted", () => {
    const params = patroniParameters({
      ...OPTS.postgres,
      parameters: { work_mem: "8MB", application_name: "it's" },
    });
    assert.strictEqual(params.work_mem, "8MB");
    assert.strictEqual(params.application_name, "it's");
  });

  it("creates the cluster with data checksums in Debian's postgresql-15 layout", () => {
    const y = rendered();
    assert.ok(y.bootstrap.initdb.includes("data-checksums"));
    assert.strictEqual(y.postgresql.data_dir, "/var/lib/postgresql/15/main");
    assert.strictEqual(y.postgresql.bin_dir, "/usr/lib/postgresql/15/bin");
    assert.strictEqual(y.postgresql.config_dir, "/etc/postgresql/15/main");
    assert.strictEqual(y.postgresql.listen, "*:5432");
    assert.strictEqual(y.postgresql.connect_address, "10.0.0.21:5432");
  });

  it("keeps passwords intact through YAML 1.1, whatever their characters", () => {
    const auth = rendered().postgresql.authentication;
    assert.deepStrictEqual(auth.superuser, { username: "postgres", password: "s3cr'et: #1" });
    assert.deepStrictEqual(auth.replication, { username: "replicator", password: "on" });
    assert.deepStrictEqual(auth.rewind, { username: "rewind", password: "r" });
  });

  it("lets the rewind role in from both PostgreSQL nodes beside today's pg_hba", () => {
    const hba = rendered().postgresql.pg_hba;
    assert.ok(hba.some((l) => /^host\s+replication\s+replicator\s+10\.0\.0\.22\/32\s/.test(l)));
    assert.ok(hba.some((l) => /^host\s+messages\s+app\s+10\.0\.0\.11\/32\s/.test(l)));
    for (const ip of OPTS.hba.replicationClients) {
      assert.ok(hba.some((l) => new RegExp(`^host\\s+postgres\\s+rewind\\s+${ip}/32\\s`).test(l)));
    }
  });

  it("turns the watchdog off and renders the tags", () => {
    const y = rendered({ tags: { nofailover: true } });
    assert.strictEqual(y.watchdog.mode, "off");
    assert.deepStrictEqual(y.tags, {
      nofailover: true,
      noloadbalance: false,
      clonefrom: false,
      nosync: false,
    });
  });

  it("refuses bad input, naming the value", () => {
    const { loopWaitSeconds, retryTimeoutSeconds } = PATRONI_TIMINGS_DEFAULT;
    const bad: Array<[Partial<PatroniConfigOptions>, RegExp]> = [
      [{ scope: "a b" }, /scope is invalid \(got "a b"\)/],
      [{ self: { name: "pg1", ip: "10.0.0.256" } }, /pg1 address is invalid \(got "10.0.0.256"\)/],
      [{ etcdHosts: ["10.0.0.1:2379"] }, /odd number of members, at least 3 \(got 1\)/],
      [
        { etcdHosts: ["10.0.0.1:2379", "10.0.0.2:2379", "x:2379"] },
        /etcd host must be ipv4:port \(got "x:2379"\)/,
      ],
      [
        { timings: { ttlSeconds: 6, loopWaitSeconds, retryTimeoutSeconds } },
        /loop_wait \+ 2 x retry_timeout must be <= ttl \(1 \+ 2 x 3 = 7 > 6\)/,
      ],
      [
        { timings: { ttlSeconds: 7, loopWaitSeconds: 0.5, retryTimeoutSeconds } },
        /loopWaitSeconds must be an integer from 1 to 60 \(got 0.5\)/,
      ],
      [{ passwords: { ...OPTS.passwords, rewind: "" } }, /the rewind password must not be empty/],
      [{ restApiPort: 5432 }, /restApiPort must be a free port number \(got 5432\)/],
      [{ dataDir: "relative" }, /path must be absolute \(got "relative"\)/],
    ];
    for (const [change, message] of bad) {
      assert.throws(() => renderPatroniConfig({ ...OPTS, ...change }), message);
    }
  });

  it("never shows a password in an error", () => {
    assert.throws(
      () => renderPatroniConfig({ ...OPTS, scope: "", passwords: OPTS.passwords }),
      (err: Error) => !err.message.includes("s3cr"),
    );
  });

  it("keeps the smallest ttl above etcd's smallest lease", () => {
    assert.ok(PATRONI_LIMITS.ttlSeconds.min * 1000 > etcdMinLeaseTtlMs());
  });

  it("restarts a crashed Patroni with the stack's policy", () => {
    const dropIn = renderPatroniDropIn();
    assert.match(dropIn, new RegExp(`^Restart=${RESTART_POLICY.restart}$`, "m"));
    assert.match(dropIn, /^\[Service\]$/m);
  });
});

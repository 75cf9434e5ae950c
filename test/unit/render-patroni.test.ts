import * as assert from "assert";
import { parse } from "yaml";
import { PATRONI_LIMITS, PATRONI_TIMINGS_DEFAULT } from "../../components/config/pgFailover";
import { etcdMinLeaseTtlMs } from "../../components/render/etcd";
import {
  PATRONI_REST_USER,
  patroniDynamicConfig,
  patroniParameters,
  renderPatroniConfig,
  renderPatroniDropIn,
  renderPatroniDynamicConfig,
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
  passwords: { superuser: "s3cr'et: #1", replication: "on", rewind: "r", restApi: "yes" },
};

interface PatroniYaml {
  scope: string;
  name: string;
  restapi: {
    listen: string;
    connect_address: string;
    authentication: { username: string; password: string };
  };
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
    custom_conf: string;
    use_unix_socket_repl: boolean;
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
    assert.strictEqual(y.restapi.listen, "10.0.0.21:8008");
    assert.strictEqual(y.restapi.connect_address, "10.0.0.21:8008");
    assert.deepStrictEqual(y.etcd3.hosts, OPTS.etcdHosts);
  });

  it("puts the timings and the failover rules in bootstrap.dcs", () => {
    const dcs = rendered({ synchronous: true }).bootstrap.dcs;
    assert.strictEqual(dcs.ttl, 5);
    assert.strictEqual(dcs.loop_wait, 1);
    assert.strictEqual(dcs.retry_timeout, 2);
    assert.strictEqual(dcs.synchronous_mode, true);
    assert.strictEqual(dcs.synchronous_mode_strict, false);
    assert.strictEqual(dcs.postgresql.use_pg_rewind, true);
    assert.strictEqual(dcs.postgresql.use_slots, true);
    assert.strictEqual(rendered().bootstrap.dcs.synchronous_mode, false);
  });

  it("takes today's PostgreSQL parameters, as strings but for the counts Patroni checks, minus what Patroni sets", () => {
    const params = rendered().bootstrap.dcs.postgresql.parameters;
    assert.strictEqual(params.shared_buffers, "256MB");
    assert.strictEqual(params.wal_log_hints, "on");
    assert.strictEqual(params.hot_standby_feedback, "on");
    assert.strictEqual(params.password_encryption, "scram-sha-256");
    assert.strictEqual(params.log_line_prefix, "%m [%p] %q%u@%d ");
    for (const owned of ["listen_addresses", "port", "synchronous_standby_names"]) {
      assert.ok(!(owned in params), owned);
    }
    // Patroni 3.1's validator refuses "200" for these: YAML integers.
    const counts = ["max_connections", "max_wal_senders", "max_replication_slots"];
    for (const name of counts) assert.strictEqual(typeof params[name], "number", name);
    for (const [name, value] of Object.entries(params))
      if (!counts.includes(name)) assert.strictEqual(typeof value, "string", name);
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
    // config_dir apart from data_dir: Patroni includes custom_conf instead of renaming a file
    // initdb never wrote there.
    assert.strictEqual(y.postgresql.custom_conf, "/etc/postgresql/15/main/postgresql.base.conf");
  });

  it("lets a replica's Patroni read its own timeline over the local socket", () => {
    const y = rendered();
    assert.strictEqual(y.postgresql.use_unix_socket_repl, true);
    assert.ok(
      y.postgresql.pg_hba.some((l: string) =>
        /^local\s+replication\s+replicator\s+scram-sha-256$/.test(l),
      ),
    );
  });

  it("keeps passwords intact through YAML 1.1, whatever their characters", () => {
    const auth = rendered().postgresql.authentication;
    assert.deepStrictEqual(auth.superuser, { username: "postgres", password: "s3cr'et: #1" });
    assert.deepStrictEqual(auth.replication, { username: "replicator", password: "on" });
    assert.deepStrictEqual(auth.rewind, { username: "rewind", password: "r" });
  });

  it("protects the REST API's unsafe endpoints with its own user and password", () => {
    const y = rendered();
    assert.deepStrictEqual(y.restapi.authentication, { username: "patroni", password: "yes" });
    assert.strictEqual(PATRONI_REST_USER, "patroni");
    // No ctl section: patronictl -c the same file takes restapi's credentials.
    assert.ok(!("ctl" in y));
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
        { timings: { ttlSeconds: 6, loopWaitSeconds, retryTimeoutSeconds: 3 } },
        /loop_wait \+ 2 x retry_timeout must be <= ttl \(1 \+ 2 x 3 = 7 > 6\)/,
      ],
      [
        { timings: { ttlSeconds: 7, loopWaitSeconds: 0.5, retryTimeoutSeconds } },
        /loopWaitSeconds must be an integer from 1 to 60 \(got 0.5\)/,
      ],
      [{ passwords: { ...OPTS.passwords, rewind: "" } }, /the rewind password must not be empty/],
      [{ passwords: { ...OPTS.passwords, restApi: "" } }, /the restApi password must not be empty/],
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

describe("render: Patroni's dynamic configuration (applied after the bootstrap)", () => {
  const DYNAMIC = { timings: OPTS.timings, synchronous: OPTS.synchronous, postgres: OPTS.postgres };

  it("renders the settings as text Patroni reads back (YAML 1.1)", () => {
    const small = {
      timings: { ttlSeconds: 9, loopWaitSeconds: 2, retryTimeoutSeconds: 3 },
      synchronous: true,
      postgres: { port: 5432, sharedBuffersMb: 128, maxSlotWalKeepSize: "2GB" },
    };
    const text = renderPatroniDynamicConfig({
      ...small,
      postgres: { ...small.postgres, parameters: { work_mem: "on", max_connections: "300" } },
    });
    const head = `# Patroni's dynamic configuration as the stack wants it. Rendered by pve-ha-stack
# (render/patroni.ts); patroni-configure applies it with patronictl edit-config when it differs.
ttl: 9
loop_wait: 2
retry_timeout: 3
maximum_lag_on_failover: 1048576
check_timeline: true
synchronous_mode: true
synchronous_mode_strict: false
postgresql:
  use_pg_rewind: true
  use_slots: true
  parameters:
    shared_buffers: "128MB"
    password_encryption: "scram-sha-256"
`;
    assert.strictEqual(text.slice(0, head.length), head);
    assert.match(text, /^ {4}max_slot_wal_keep_size: "2GB"$/m);
    // pgParameters replace the stack's default and come last, quoted (work_mem "on" stays a string).
    assert.match(text, /^ {4}max_connections: 300\n {4}work_mem: "on"\n$/m);
    assert.strictEqual((text.match(/max_connections/g) ?? []).length, 1);
    const y = parse(text, { version: "1.1" }) as { postgresql: { parameters: object } };
    assert.strictEqual((y.postgresql.parameters as Record<string, unknown>).work_mem, "on");
  });

  it("is exactly the node's bootstrap.dcs: one object, two places", () => {
    for (const change of [
      {},
      { synchronous: true },
      { postgres: { ...OPTS.postgres, port: 5433 } },
    ]) {
      const o = { ...OPTS, ...change };
      const dynamic = parse(renderPatroniDynamicConfig(o), { version: "1.1" }) as unknown;
      assert.deepStrictEqual(dynamic, rendered(change).bootstrap.dcs);
      assert.deepStrictEqual(dynamic, patroniDynamicConfig(o));
    }
  });

  it("follows each setting it is made of", () => {
    const base = renderPatroniDynamicConfig(DYNAMIC);
    const changes = [
      { synchronous: true },
      { timings: { ...OPTS.timings, ttlSeconds: 10 } },
      { timings: { ...OPTS.timings, retryTimeoutSeconds: 4, ttlSeconds: 9 } },
      { postgres: { ...OPTS.postgres, parameters: { work_mem: "8MB" } } },
      { postgres: { ...OPTS.postgres, sharedBuffersMb: 512 } },
    ];
    for (const change of changes) {
      assert.notStrictEqual(renderPatroniDynamicConfig({ ...DYNAMIC, ...change }), base);
    }
    assert.strictEqual(renderPatroniDynamicConfig({ ...DYNAMIC }), base);
  });

  it("holds no password and no node's own address", () => {
    const text = renderPatroniDynamicConfig(DYNAMIC);
    assert.doesNotMatch(text, /\bpassword:|authentication|superuser|listen|10\.0\.0\./);
  });

  it("refuses timings Patroni would refuse", () => {
    assert.throws(
      () =>
        renderPatroniDynamicConfig({
          ...DYNAMIC,
          timings: { ttlSeconds: 6, loopWaitSeconds: 1, retryTimeoutSeconds: 3 },
        }),
      /loop_wait \+ 2 x retry_timeout must be <= ttl/,
    );
  });
});

import * as assert from "assert";
import { renderHaproxyCfg, type HaproxyOptions } from "../../components/render/haproxy";
import {
  nginxReadTimeoutSeconds,
  renderNginxConf,
  type NginxConfOptions,
} from "../../components/render/nginx";
import { allDebianPackages, debianPackages } from "../../components/render/packages";
import { pctExec, pctExecScript, pctPushFile, pctPushStdin } from "../../components/render/pct";
import {
  renderCreateClusterConf,
  renderPgHba,
  renderPostgresConf,
  renderPrimarySetupSql,
} from "../../components/render/postgres";

const NGINX: NginxConfOptions = {
  upstreams: [
    { name: "webserver1", host: "10.0.0.11", port: 3000 },
    { name: "webserver2", host: "10.0.0.12", port: 3000 },
  ],
  algorithm: "round_robin",
  maxFails: 1,
  failTimeoutSeconds: 10,
  connectTimeoutMs: 500,
  readTimeoutSeconds: nginxReadTimeoutSeconds(15000),
  listenPort: 80,
  stubStatusPort: 8081,
};

describe("render: nginx.conf", () => {
  it("balances round robin over every app node with passive health checks", () => {
    const conf = renderNginxConf(NGINX);
    assert.ok(
      conf.includes("    server 10.0.0.11:3000 max_fails=1 fail_timeout=10s; # webserver1\n"),
    );
    assert.ok(
      conf.includes("    server 10.0.0.12:3000 max_fails=1 fail_timeout=10s; # webserver2\n"),
    );
    assert.ok(!/least_conn;|ip_hash;/.test(conf));
    assert.ok(conf.includes("      proxy_next_upstream error timeout non_idempotent;\n"));
    assert.ok(
      !/proxy_next_upstream [^\n]*http_50[234]/.test(conf),
      "an app 503 (Kafka did not acknowledge) must not mark a live node down",
    );
    assert.ok(conf.includes("proxy_next_upstream_tries 2;"));
    assert.ok(conf.includes("proxy_connect_timeout 500ms;"));
    assert.ok(conf.includes("listen 127.0.0.1:8081;"));
    assert.ok(conf.includes("stub_status;"));
    assert.ok(conf.includes("    zone app_nodes 64k;\n"), "workers share one upstream state");
    assert.ok(conf.includes("proxy_read_timeout 17s;"), "outlasts the app's 15 s Kafka ack wait");
  });

  it("derives the read timeout from the app's Kafka publish deadline: whole seconds + 2 s", () => {
    assert.strictEqual(nginxReadTimeoutSeconds(15000), 17);
    assert.strictEqual(nginxReadTimeoutSeconds(8000), 10);
    assert.strictEqual(nginxReadTimeoutSeconds(1000), 3);
    assert.strictEqual(nginxReadTimeoutSeconds(1001), 4, "rounds the deadline up");
    assert.strictEqual(nginxReadTimeoutSeconds(120000), 122);
    const conf = renderNginxConf({ ...NGINX, readTimeoutSeconds: nginxReadTimeoutSeconds(30500) });
    assert.ok(conf.includes("      proxy_read_timeout 33s;\n"), conf);
    assert.ok(
      conf.includes("      proxy_next_upstream_timeout 66s;\n"),
      "a retry gets a read timeout of its own",
    );
    assert.throws(
      () => nginxReadTimeoutSeconds(0),
      /nginx: publishDeadlineMs must be a positive integer \(got 0\)/,
    );
  });

  it("renders least_conn and ip_hash as the first upstream directive", () => {
    for (const algorithm of ["least_conn", "ip_hash"] as const) {
      const conf = renderNginxConf({ ...NGINX, algorithm });
      assert.ok(conf.includes(`  upstream app_nodes {\n    ${algorithm};\n    server `), algorithm);
    }
  });

  it("rejects bad input with the bad value", () => {
    assert.throws(
      () => renderNginxConf({ ...NGINX, upstreams: [] }),
      /upstreams must not be empty/,
    );
    assert.throws(
      () => renderNginxConf({ ...NGINX, upstreams: [{ name: "x", host: "a b", port: 3000 }] }),
      /upstream x host is invalid \(got "a b"\)/,
    );
    assert.throws(
      () => renderNginxConf({ ...NGINX, readTimeoutSeconds: 2.5 }),
      /readTimeoutSeconds must be a positive integer \(got 2\.5\)/,
    );
  });
});

describe("render: haproxy.cfg", () => {
  const options: HaproxyOptions = {
    primary: { name: "pg1", host: "10.0.0.13" },
    standby: { name: "pg2", host: "10.0.0.14" },
    pgPort: 5432,
    roleCheckPort: 8008,
    readWritePort: 5000,
    readOnlyPort: 5001,
    statsPort: 8404,
  };
  const cfg = renderHaproxyCfg(options);

  it("sends read-write traffic only to the node that reports primary", () => {
    const rw = cfg.slice(cfg.indexOf("listen pg_read_write"), cfg.indexOf("listen pg_read_only"));
    assert.ok(rw.includes("bind :5000"));
    assert.ok(rw.includes("option httpchk GET /primary"));
    assert.ok(rw.includes("http-check expect status 200"));
    assert.ok(rw.includes("server pg1 10.0.0.13:5432 check port 8008\n"));
    assert.ok(rw.includes("server pg2 10.0.0.14:5432 check port 8008\n"));
    assert.ok(!cfg.includes("pgsql-check"));
  });

  it("prefers the standby for reads with the primary as backup", () => {
    const ro = cfg.slice(cfg.indexOf("listen pg_read_only"), cfg.indexOf("frontend stats"));
    assert.ok(ro.indexOf("server pg2") < ro.indexOf("server pg1"));
    assert.ok(ro.includes("server pg1 10.0.0.13:5432 check port 8008 backup"));
  });

  it("serves stats and Prometheus metrics on one port", () => {
    assert.ok(cfg.includes("bind :8404"));
    assert.ok(cfg.includes("http-request use-service prometheus-exporter if { path /metrics }"));
  });

  it("rejects clashing ports", () => {
    assert.throws(
      () => renderHaproxyCfg({ ...options, readOnlyPort: 5000 }),
      /listen ports must differ \(got 5000, 5000, 8404\)/,
    );
  });
});

describe("render: PostgreSQL", () => {
  it("creates the cluster with data checksums", () => {
    assert.ok(renderCreateClusterConf().includes("initdb_options = '--data-checksums'"));
  });

  it("configures replication and caps slot WAL", () => {
    const conf = renderPostgresConf({
      port: 5432,
      sharedBuffersMb: 256,
      maxSlotWalKeepSize: "1GB",
    });
    for (const line of [
      "wal_level = replica",
      "wal_log_hints = on",
      "hot_standby = on",
      "max_slot_wal_keep_size = 1GB",
      "listen_addresses = '*'",
    ]) {
      assert.ok(conf.includes(`${line}\n`), line);
    }
    assert.throws(
      () => renderPostgresConf({ port: 5432, sharedBuffersMb: 256, maxSlotWalKeepSize: "lots" }),
      /maxSlotWalKeepSize must be a size like 1GB \(got "lots"\)/,
    );
  });

  it("allows replication between the PG nodes and the app only from the app nodes and the proxy", () => {
    const hba = renderPgHba({
      database: "messages",
      appUser: "app",
      replicationUser: "replicator",
      replicationClients: ["10.0.0.13", "10.0.0.14"],
      appClients: ["10.0.0.11", "10.0.0.15"],
    });
    const rules = hba
      .split("\n")
      .filter((l) => l.startsWith("host"))
      .map((l) => l.split(/\s+/).join(" "));
    assert.deepStrictEqual(rules, [
      "host all all 127.0.0.1/32 scram-sha-256",
      "host replication replicator 10.0.0.13/32 scram-sha-256",
      "host replication replicator 10.0.0.14/32 scram-sha-256",
      "host messages app 10.0.0.11/32 scram-sha-256",
      "host messages app 10.0.0.15/32 scram-sha-256",
    ]);
  });

  it("keeps passwords out of the setup SQL (psql variables) and guards the slot", () => {
    const sql = renderPrimarySetupSql({
      database: "messages",
      appUser: "app",
      replicationUser: "replicator",
      slot: "standby1",
    });
    assert.ok(sql.includes("PASSWORD :'replication_password'"));
    assert.ok(sql.includes("PASSWORD :'app_password'"));
    // The app reads the replicas' flush positions (pg_stat_replication) before committing offsets.
    assert.ok(sql.includes("GRANT pg_read_all_stats TO app;"));
    assert.ok(
      sql.includes(
        "WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'standby1')",
      ),
    );
    assert.throws(
      () =>
        renderPrimarySetupSql({
          database: "Bad-Name",
          appUser: "app",
          replicationUser: "r",
          slot: "s",
        }),
      /database must be a lowercase SQL identifier \(got "Bad-Name"\)/,
    );
  });
});

describe("render: pct command lines", () => {
  it("runs scripts and pushes files through pct", () => {
    assert.strictEqual(pctExecScript(203), "pct exec 203 -- bash -s");
    assert.strictEqual(
      pctExec(203, ["systemctl", "is-active", "a b"]),
      "pct exec 203 -- 'systemctl' 'is-active' 'a b'",
    );
    const push = pctPushStdin(203, "/etc/app/app.env", { mode: "0640", owner: "root:app" });
    assert.ok(push.includes("tmp=$(mktemp)"));
    assert.ok(
      push.includes(`pct push 203 "$tmp" '/etc/app/app.env' --perms 0640 --user root --group app`),
    );
    assert.ok(push.includes("pct exec 203 -- mkdir -p '/etc/app'"));
    assert.strictEqual(
      pctPushFile(203, "/var/lib/stage/203-kafka.tgz", "/opt/k.tgz").split("\n").pop(),
      "pct push 203 '/var/lib/stage/203-kafka.tgz' '/opt/k.tgz' --perms 0644",
    );
  });

  it("rejects bad input with the bad value", () => {
    assert.throws(() => pctExecScript(99), /vmid must be an integer >= 100 \(got 99\)/);
    assert.throws(
      () => pctPushStdin(200, "etc/x"),
      /destination must be an absolute path \(got "etc\/x"\)/,
    );
    assert.throws(
      () => pctPushStdin(200, "/etc/x", { mode: "rw" }),
      /file mode must be octal like 0644 \(got "rw"\)/,
    );
  });
});

describe("render: Debian packages", () => {
  it("installs exactly the role's list plus the base packages", () => {
    assert.deepStrictEqual(debianPackages("haproxy"), [
      "ca-certificates",
      "prometheus-node-exporter",
      "haproxy",
    ]);
    assert.ok(debianPackages("pg-primary").includes("postgresql-15"));
    assert.ok(debianPackages("kafka").includes("openjdk-17-jre-headless"));
  });

  it("lists the union sorted and without duplicates", () => {
    const all = allDebianPackages();
    assert.deepStrictEqual(all, [...new Set(all)].sort());
    for (const pkg of ["nginx", "haproxy", "postgresql-15", "prometheus"])
      assert.ok(all.includes(pkg), pkg);
  });
});

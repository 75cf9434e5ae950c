import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PORTS } from "../../components/config/ports";
import {
  PG_OWNED_PARAMETERS,
  pgConfQuote,
  pgParameterProblem,
  renderPostgresConf,
  type PostgresConfOptions,
} from "../../components/render/postgres";

const BASE: PostgresConfOptions = {
  port: PORTS.postgres,
  sharedBuffersMb: 256,
  maxSlotWalKeepSize: "1GB",
};

/** name -> value of every `name = value` line, in file order (a later line wins, as in PG). */
function settings(conf: string): [string, string][] {
  return conf
    .split("\n")
    .map((line) => /^([a-z_][a-z0-9_.]*)\s*=\s*(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[2]]);
}

describe("render: pgParameters in conf.d/pve-ha.conf", () => {
  it("renders nothing extra without parameters (the file as before)", () => {
    const conf = renderPostgresConf(BASE);
    assert.strictEqual(renderPostgresConf({ ...BASE, parameters: {} }), conf);
    assert.ok(!conf.includes("pgParameters"));
    assert.ok(conf.includes("shared_buffers = 256MB\n"), "pgSharedBuffersMb still renders");
  });

  it("renders the parameters last, single-quoted, in name order, each parameter once", () => {
    const conf = renderPostgresConf({
      ...BASE,
      parameters: { work_mem: "8MB", max_connections: "300", "pg_stat_statements.max": "5000" },
    });
    const lines = conf.trimEnd().split("\n");
    assert.match(lines[lines.length - 4], /^# pgParameters/);
    assert.deepStrictEqual(lines.slice(-3), [
      "max_connections = '300'",
      "pg_stat_statements.max = '5000'",
      "work_mem = '8MB'",
    ]);
    // The stack's default max_connections = 200 gives way instead of appearing twice.
    const names = settings(conf).map(([name]) => name);
    assert.deepStrictEqual(names, [...new Set(names)]);
    assert.ok(conf.endsWith("\n"));
  });

  it("escapes quotes and backslashes so PostgreSQL reads back the exact value", () => {
    assert.strictEqual(pgConfQuote("it's"), "'it''s'");
    assert.strictEqual(pgConfQuote("a\\b"), "'a\\\\b'");
    const conf = renderPostgresConf({ ...BASE, parameters: { application_name: "o'k\\x" } });
    assert.ok(conf.includes("application_name = 'o''k\\\\x'\n"));
  });

  it("refuses parameters the stack owns, bad names and values that break the file", () => {
    for (const owned of ["port", "listen_addresses", "wal_level", "hba_file", "data_directory"]) {
      assert.ok(owned in PG_OWNED_PARAMETERS, owned);
    }
    for (const owned of ["archive_mode", "archive_command", "primary_conninfo"]) {
      assert.match(String(pgParameterProblem(owned, "x")), /^is set by the stack/, owned);
    }
    assert.strictEqual(
      pgParameterProblem("synchronous_standby_names", "*"),
      "is set by the stack, not by pgParameters: replication is asynchronous",
    );
    assert.strictEqual(
      pgParameterProblem("shared_buffers", "1GB"),
      "is set by the stack, not by pgParameters: use pgSharedBuffersMb",
    );
    assert.match(String(pgParameterProblem("Work_Mem", "8MB")), /must be a PostgreSQL parameter/);
    assert.match(String(pgParameterProblem("work-mem", "8MB")), /must be a PostgreSQL parameter/);
    assert.match(String(pgParameterProblem("work_mem", "8MB\nport = 1")), /newline/);
    assert.strictEqual(pgParameterProblem("work_mem", "8MB"), undefined);
    assert.throws(
      () => renderPostgresConf({ ...BASE, parameters: { port: "5433" } }),
      /^Error: postgres: pgParameters\.port is set by the stack, not by pgParameters: .* \(got "5433"\)$/,
    );
    assert.throws(
      () => renderPostgresConf({ ...BASE, parameters: { work_mem: "1\n" } }),
      /pgParameters\.work_mem must not contain a newline/,
    );
  });

  it("is read back exactly by PostgreSQL 15's own check (postgres -C), where it is installed", function () {
    const postgres = "/usr/lib/postgresql/15/bin/postgres";
    // postgres refuses to run as root: as root the check runs as the postgres user.
    const asPostgres = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
    if (!fs.existsSync(postgres) || spawnSync("id", ["postgres"]).status !== 0) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-parameters-"));
    try {
      fs.chmodSync(dir, 0o755);
      const check = (parameters: Record<string, string>, name: string) => {
        fs.writeFileSync(
          path.join(dir, "postgresql.conf"),
          renderPostgresConf({ ...BASE, parameters }),
          { mode: 0o644 },
        );
        const argv = [...asPostgres, postgres, "-D", dir, "-C", name];
        return spawnSync(argv[0], argv.slice(1), { encoding: "utf8", cwd: "/" });
      };
      const value = "o'k \\ x";
      const ok = check({ application_name: value, max_connections: "300" }, "application_name");
      assert.strictEqual(ok.status, 0, ok.stderr);
      assert.strictEqual(ok.stdout, `${value}\n`);
      assert.strictEqual(check({ max_connections: "300" }, "max_connections").stdout, "300\n");
      // What pg-configure and pg-settings-apply rely on: a value PostgreSQL would not start with.
      const bad = check({ work_mem: "lots" }, "data_directory");
      assert.notStrictEqual(bad.status, 0);
      assert.match(bad.stderr, /invalid value for parameter "work_mem": "lots"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sha256Hex } from "../../components/render/hash";
import { renderPayload } from "../../components/render/payload";

/**
 * Stand-ins for what pg-settings-apply asks of the container (defined after lib.sh, before the
 * body): psql answers from files in $FAKE, systemctl records its calls and a restart clears the
 * pending parameters, `postgres -C` and pg_controldata answer from files.
 */
const FAKES = `
psql_su() {
  local sql="\${*: -1}"
  echo "$sql" >>"$FAKE/sql.log"
  case "$sql" in
    'SELECT 1') echo 1 ;;
    'SELECT pg_is_in_recovery()') cat "$FAKE/recovery" ;;
    'SELECT NOT pg_is_in_recovery()') if [[ "$(cat "$FAKE/recovery")" == t ]]; then echo f; else echo t; fi ;;
    'SELECT txid_current()') echo 731 ;;
    'SELECT pg_conf_load_time()') cat "$FAKE/loadtime" ;;
    'SELECT pg_reload_conf()')
      echo "$(($(cat "$FAKE/loadtime") + 1))" >"$FAKE/loadtime"
      cat "$FAKE/pending-after-reload" >"$FAKE/pending"
      echo t ;;
    *pending_restart*) cat "$FAKE/pending" ;;
    *pg_stat_wal_receiver*) cat "$FAKE/receiver" ;;
    *'count(*) FROM pg_stat_replication'*) cat "$FAKE/replicas" ;;
    *pg_stat_replication*) echo "pg2 catchup" ;;
    *) echo "unexpected SQL: $sql" >&2; return 3 ;;
  esac
}
systemctl() {
  echo "$*" >>"$FAKE/systemctl.log"
  if [[ "$1" == restart ]]; then
    : >"$FAKE/pending"
    cat "$FAKE/receiver-after-restart" >"$FAKE/receiver"
    cat "$FAKE/replicas-after-restart" >"$FAKE/replicas"
  fi
}
pg_conf_value() {
  if [[ -s "$FAKE/refused" ]]; then cat "$FAKE/refused" >&2; return 1; fi
  cat "$FAKE/conf-$1" 2>/dev/null || echo /var/lib/postgresql/15/main
}
pg_control_setting() { cat "$FAKE/control-$1" 2>/dev/null || true; }
sleep() { command sleep 0.05; }
chown() { :; }
`;

interface Node {
  recovery: "t" | "f";
  pendingAfterReload?: string;
  receiver?: string;
  receiverAfterRestart?: string;
  replicas?: number;
  replicasAfterRestart?: number;
  /** What `postgres -C` complains about (refused settings). */
  refused?: string;
  conf?: Record<string, string>;
  control?: Record<string, string>;
  /** The marker's content before the run. */
  applied?: string;
  /** The settings file differs from the rendered one. */
  stale?: boolean;
}

const CONF = "max_connections = '300'\n";

describe("payload: pg-settings-apply (rolling PostgreSQL settings)", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-settings-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(pass: "replica" | "primary", node: Node) {
    const fake = path.join(dir, "fake");
    fs.mkdirSync(fake);
    const put = (name: string, value: string | number) =>
      fs.writeFileSync(path.join(fake, name), `${value}\n`.replace(/^\n$/, ""));
    put("recovery", node.recovery);
    put("loadtime", 1000);
    put("pending", "");
    put("pending-after-reload", node.pendingAfterReload ?? "");
    put("receiver", node.receiver ?? (node.recovery === "t" ? "streaming" : ""));
    put("receiver-after-restart", node.receiverAfterRestart ?? "streaming");
    put("replicas", node.replicas ?? (node.recovery === "f" ? 1 : 0));
    put("replicas-after-restart", node.replicasAfterRestart ?? 1);
    put("refused", node.refused ?? "");
    for (const [k, v] of Object.entries(node.conf ?? {})) put(`conf-${k}`, v);
    for (const [k, v] of Object.entries(node.control ?? {})) put(`control-${k}`, v);
    const state = path.join(dir, "state");
    if (node.applied !== undefined) {
      fs.mkdirSync(state);
      fs.writeFileSync(path.join(state, "pg-settings.applied"), `${node.applied}\n`);
    }
    const confFile = path.join(dir, "pve-ha.conf");
    fs.writeFileSync(confFile, node.stale ? "max_connections = '200'\n" : CONF);
    const script = renderPayload("pg-settings-apply", {
      PAYLOAD_NAME: "pg-settings-apply",
      PASS: pass,
      NODE_NAME: node.recovery === "t" ? "pg2" : "pg1",
      CONF_FILE: confFile,
      SETTINGS_SHA256: sha256Hex(CONF),
      ANSWER_TIMEOUT_SECONDS: 2,
      RELOAD_TIMEOUT_SECONDS: 2,
      RESTART_TIMEOUT_SECONDS: 1,
    }).replace("# --- pg-settings-apply.sh ---", `${FAKES}\n# --- pg-settings-apply.sh ---`);
    const r = spawnSync("bash", ["-c", script], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        FAKE: fake,
        PVE_HA_STATE_DIR: state,
        PVE_HA_RESTART_DIR: path.join(dir, "restart"),
      },
      timeout: 30000,
    });
    const read = (name: string) =>
      fs.existsSync(path.join(fake, name)) ? fs.readFileSync(path.join(fake, name), "utf8") : "";
    const marker = path.join(state, "pg-settings.applied");
    return {
      status: r.status,
      stdout: r.stdout.trim(),
      stderr: r.stderr,
      systemctl: read("systemctl.log").trim().split("\n").filter(Boolean),
      sql: read("sql.log"),
      applied: fs.existsSync(marker) ? fs.readFileSync(marker, "utf8").trim() : undefined,
    };
  }

  it("replica pass: reloads a replica and stops there when no parameter needs a restart", () => {
    const r = run("replica", { recovery: "t" });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(r.stdout, "pg-settings replica pass on pg2 (replica now): reloaded");
    assert.match(r.sql, /SELECT pg_reload_conf\(\)/);
    assert.ok(!r.systemctl.some((c) => c.startsWith("restart")), r.systemctl.join("\n"));
    assert.strictEqual(r.applied, sha256Hex(CONF));
  });

  it("replica pass: restarts a replica whose parameters need it, then waits until it streams", () => {
    const r = run("replica", {
      recovery: "t",
      pendingAfterReload: "max_connections, shared_buffers",
      conf: { max_connections: "300" },
      control: { max_connections: "200" },
    });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(
      r.stdout,
      "pg-settings replica pass on pg2 (replica now): restarted (restart needed for: max_connections, shared_buffers)",
    );
    assert.deepStrictEqual(
      r.systemctl.filter((c) => c.startsWith("restart")),
      ["restart postgresql@15-main.service"],
    );
    assert.ok(r.sql.lastIndexOf("pg_stat_wal_receiver") > r.sql.indexOf("pg_reload_conf"));
  });

  it("replica pass: leaves the primary alone (no reload, no marker)", () => {
    const r = run("replica", { recovery: "f", pendingAfterReload: "shared_buffers" });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(
      r.stdout,
      "pg-settings replica pass on pg1 (primary now): nothing; the primary pass applies them",
    );
    assert.ok(!r.sql.includes("pg_reload_conf"));
    assert.deepStrictEqual(r.systemctl, []);
    assert.strictEqual(r.applied, undefined);
  });

  it("primary pass: restarts the primary through the failover hook, waits for writes and a replica", () => {
    const r = run("primary", { recovery: "f", pendingAfterReload: "shared_buffers" });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(
      r.stdout,
      "pg-settings primary pass on pg1 (primary now): restarted (restart needed for: shared_buffers)",
    );
    assert.match(r.stderr, /no failover manager: restarting the primary pg1 in place/);
    assert.match(r.sql, /SELECT txid_current\(\)/);
    assert.ok(r.sql.lastIndexOf("pg_stat_replication") > r.sql.indexOf("txid_current"));
  });

  it("primary pass: nothing on a replica the replica pass already applied them to", () => {
    const r = run("primary", { recovery: "t", applied: sha256Hex(CONF) });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(
      r.stdout,
      "pg-settings primary pass on pg2 (replica now): nothing; the replica pass applied them",
    );
    assert.deepStrictEqual(r.systemctl, []);
  });

  it("fails, naming the node, when a restarted replica does not stream again in time", () => {
    const r = run("replica", {
      recovery: "t",
      pendingAfterReload: "shared_buffers",
      receiverAfterRestart: "",
    });
    assert.notStrictEqual(r.status, 0);
    assert.match(
      r.stderr,
      /replica pg2 not streaming from the primary 1s after its restart \(in recovery: t, WAL receiver: none\)/,
    );
    assert.strictEqual(r.applied, undefined);
  });

  it("fails when no replica streams from the restarted primary in time", () => {
    const r = run("primary", {
      recovery: "f",
      pendingAfterReload: "shared_buffers",
      replicasAfterRestart: 0,
    });
    assert.notStrictEqual(r.status, 0);
    assert.match(r.stderr, /no replica streams from the primary pg1 1s after its restart/);
  });

  it("refuses to restart a replica with a value below the primary's (PostgreSQL stops recovery)", () => {
    const r = run("replica", {
      recovery: "t",
      pendingAfterReload: "max_connections",
      conf: { max_connections: "100" },
      control: { max_connections: "200" },
    });
    assert.notStrictEqual(r.status, 0);
    assert.match(r.stderr, /max_connections 100 is below the primary's 200/);
    assert.deepStrictEqual(r.systemctl, []);
  });

  it("refuses settings PostgreSQL would not start with, before any reload", () => {
    const r = run("replica", {
      recovery: "t",
      refused: 'LOG:  invalid value for parameter "work_mem": "lots"',
    });
    assert.notStrictEqual(r.status, 0);
    assert.match(r.stderr, /pg2 refuses the settings in .*: LOG: {2}invalid value for parameter/);
    assert.ok(!r.sql.includes("pg_reload_conf"));
  });

  it("refuses a settings file that is not the rendered one (pg-configure did not write it)", () => {
    const r = run("replica", { recovery: "t", stale: true });
    assert.notStrictEqual(r.status, 0);
    assert.match(r.stderr, /pve-ha\.conf on pg2 is not the rendered one/);
    assert.ok(!r.sql.includes("pg_reload_conf"));
  });
});

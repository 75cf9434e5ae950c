import * as assert from "assert";
import { HAPROXY_CHECK_DEFAULT } from "../../components/config/pgFailover";
import { renderHaproxyCfg, type HaproxyOptions } from "../../components/render/haproxy";

const OPTS: HaproxyOptions = {
  primary: { name: "pg1", host: "10.0.0.21" },
  standby: { name: "pg2", host: "10.0.0.22" },
  pgPort: 5432,
  roleCheckPort: 8008,
  readWritePort: 5000,
  readOnlyPort: 5001,
  statsPort: 8404,
};

/** The lines of one `frontend`/`backend` section. */
function section(cfg: string, header: string): string {
  const start = cfg.indexOf(`\n${header}\n`);
  assert.ok(start >= 0, `no section ${header}`);
  const rest = cfg.slice(start + header.length + 2);
  return rest.slice(0, rest.search(/\n(?:\S|$)/));
}

describe("render: haproxy.cfg with Patroni's checks (pgFailover auto)", () => {
  const cfg = renderHaproxyCfg({ ...OPTS, patroniChecks: HAPROXY_CHECK_DEFAULT });

  it("sends writes to the node that answers OPTIONS /primary 200 on Patroni's port", () => {
    assert.match(section(cfg, "frontend pg_read_write"), /^ {2}bind :5000$/m);
    const primary = section(cfg, "backend pg_primary");
    assert.match(primary, /^ {2}option httpchk OPTIONS \/primary$/m);
    assert.match(primary, /^ {2}http-check expect status 200$/m);
    assert.match(primary, /^ {2}server pg1 10\.0\.0\.21:5432 check port 8008$/m);
    assert.match(primary, /^ {2}server pg2 10\.0\.0\.22:5432 check port 8008$/m);
  });

  it("sends reads to the replicas (OPTIONS /replica) while one is UP, else to the primary", () => {
    const ro = section(cfg, "frontend pg_read_only");
    assert.match(ro, /^ {2}use_backend pg_replicas if \{ nbsrv\(pg_replicas\) gt 0 \}$/m);
    assert.match(ro, /^ {2}default_backend pg_primary$/m);
    assert.match(section(cfg, "backend pg_replicas"), /^ {2}option httpchk OPTIONS \/replica$/m);
  });

  it("checks with the settings' timings and ends the sessions of a node marked DOWN", () => {
    const line = "  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions";
    assert.ok(section(cfg, "backend pg_primary").includes(line));
    assert.ok(section(cfg, "backend pg_replicas").includes(line));
    assert.match(cfg, /^ {2}timeout check 500ms$/m);
  });

  it("leaves today's output alone without the option", () => {
    const today = renderHaproxyCfg(OPTS);
    assert.match(today, /^listen pg_read_write$/m);
    assert.match(today, /option httpchk GET \/health/);
    assert.doesNotMatch(today, /pg_replicas|GET \/replica/);
  });

  it("refuses timings HAProxy cannot use, naming the value", () => {
    assert.throws(
      () => renderHaproxyCfg({ ...OPTS, patroniChecks: { intervalMs: 500, fall: 0, rise: 1 } }),
      /patroniChecks\.fall must be a positive integer \(got 0\)/,
    );
  });
});

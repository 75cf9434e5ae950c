import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  NGINX_CHECK_SCRIPT_PATH,
  VRRP_INSTANCE,
  VRRP_NOTIFY_SCRIPT_PATH,
  masterDownIntervalMs,
  renderKeepalivedConf,
  renderKeepalivedStateDropIn,
  renderNginxCheckScript,
  renderVrrpNotifyScript,
  type KeepalivedConfOptions,
} from "../../components/render/keepalived";
import { renderVrrpTextfile } from "../../components/render/observability/vrrpTextfile";
import { NGINX_HEALTH_PATH, renderNginxConf } from "../../components/render/nginx";
import { renderPayload } from "../../components/render/payload";
import {
  KEEPALIVED_PACKAGES,
  allDebianPackages,
  debianPackages,
} from "../../components/render/packages";

const LB: KeepalivedConfOptions = {
  self: { name: "lb", ip: "192.168.100.10" },
  peer: { name: "lb2", ip: "192.168.100.20" },
  priority: 150,
  virtualIp: "192.168.100.254",
  prefix: 24,
  routerId: 51,
  advertIntervalMs: 500,
};

/** The lines of a block `<header> {` … `}` (two-space indented keepalived.conf). */
function block(conf: string, header: string): string[] {
  const lines = conf.split("\n");
  const start = lines.indexOf(`${header} {`);
  assert.ok(start >= 0, `no block ${header}`);
  const end = lines.indexOf("}", start);
  return lines
    .slice(start + 1, end)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

describe("render: keepalived.conf", () => {
  it("runs VRRPv3 over unicast to the one peer, TTL 255 both ways, sub-second adverts", () => {
    const conf = renderKeepalivedConf(LB);
    assert.deepStrictEqual(block(conf, "global_defs"), [
      "router_id lb",
      "vrrp_version 3",
      "enable_script_security",
      "script_user root",
    ]);
    assert.deepStrictEqual(block(conf, `vrrp_instance ${VRRP_INSTANCE}`), [
      "state BACKUP",
      "nopreempt",
      "interface eth0",
      "virtual_router_id 51",
      "priority 150",
      "advert_int 0.5",
      "unicast_src_ip 192.168.100.10",
      "unicast_ttl 255",
      "check_unicast_src",
      "unicast_peer {",
      "192.168.100.20 min_ttl 255 max_ttl 255",
      "}",
      "virtual_ipaddress {",
      "192.168.100.254/24 dev eth0",
      "}",
      "track_script {",
      "pve_ha_nginx",
      "}",
      `notify "${VRRP_NOTIFY_SCRIPT_PATH}"`,
    ]);
    assert.ok(!/^\s*(authentication \{|auth_pass|auth_type)/m.test(conf), "VRRPv3 has no auth");
  });

  it("fails over on the health check alone: unweighted, every second, one failure", () => {
    assert.deepStrictEqual(block(renderKeepalivedConf(LB), "vrrp_script pve_ha_nginx"), [
      `script "${NGINX_CHECK_SCRIPT_PATH}"`,
      "interval 1",
      "timeout 2",
      "fall 1",
      "rise 1",
      "weight 0",
    ]);
  });

  it("renders the peer's side with its own source, peer and priority", () => {
    const conf = renderKeepalivedConf({ ...LB, self: LB.peer, peer: LB.self, priority: 100 });
    assert.match(conf, /^ {2}unicast_src_ip 192\.168\.100\.20$/m);
    assert.match(conf, /^ {4}192\.168\.100\.10 min_ttl 255 max_ttl 255$/m);
    assert.match(conf, /^ {2}priority 100$/m);
    assert.match(renderKeepalivedConf({ ...LB, advertIntervalMs: 1230 }), /advert_int 1\.23$/m);
  });

  it("stays within 3 s for a silent MASTER with the default 500 ms adverts", () => {
    assert.ok(masterDownIntervalMs(500, 100) < 2000, String(masterDownIntervalMs(500, 100)));
    assert.ok(masterDownIntervalMs(1000, 100) > 3000, "1 s adverts (VRRPv2's minimum) miss 3 s");
  });

  it("rejects bad input with the bad value", () => {
    const bad: Array<[Partial<KeepalivedConfOptions>, RegExp]> = [
      [{ virtualIp: "192.168.100.300" }, /virtual IP is invalid \(got "192\.168\.100\.300"\)/],
      [{ virtualIp: "192.168.100.20" }, /must differ from both nodes' addresses/],
      [{ peer: { name: "lb2", ip: "192.168.100.10" } }, /same address \(got "192\.168\.100\.10"\)/],
      [{ routerId: 0 }, /routerId must be an integer from 1 to 255 \(got 0\)/],
      [{ priority: 255 }, /priority must be an integer from 1 to 254 \(got 255\)/],
      [{ advertIntervalMs: 505 }, /advertIntervalMs must be a multiple of 10 \(got 505\)/],
      [{ advertIntervalMs: 50 }, /advertIntervalMs must be an integer from 100 to 10000/],
      [{ prefix: 31 }, /prefix must be an integer from 8 to 30 \(got 31\)/],
      [{ self: { name: "lb x", ip: "192.168.100.10" } }, /self name is invalid \(got "lb x"\)/],
      [{ checkScript: "relative/check" }, /script path is invalid \(got "relative\/check"\)/],
    ];
    for (const [change, message] of bad) {
      assert.throws(() => renderKeepalivedConf({ ...LB, ...change }), message);
    }
  });
});

describe("render: keepalived scripts", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "keepalived-test-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function notify(textfile: string, ...args: string[]) {
    const script = path.join(dir, "vrrp-state");
    fs.writeFileSync(script, renderVrrpNotifyScript(), { mode: 0o755 });
    return spawnSync("bash", [script, ...args], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PVE_HA_VRRP_TEXTFILE: textfile },
    });
  }

  it("writes the VRRP state as the textfile of vrrpTextfile.ts, atomically", () => {
    const textfile = path.join(dir, "textfile", "pve-ha-vrrp.prom");
    for (const [state, want] of [
      ["MASTER", "MASTER"],
      ["FAULT", "FAULT"],
      ["BACKUP", "BACKUP"],
      ["STOP", "BACKUP"],
    ] as const) {
      const run = notify(textfile, "INSTANCE", VRRP_INSTANCE, state, "150");
      assert.strictEqual(run.status, 0, run.stderr);
      assert.strictEqual(
        fs.readFileSync(textfile, "utf8"),
        renderVrrpTextfile(VRRP_INSTANCE, want),
      );
      assert.strictEqual(fs.statSync(textfile).mode & 0o777, 0o644);
    }
    // only the .prom file is left for node_exporter (plus the lock, which it ignores)
    assert.deepStrictEqual(
      fs.readdirSync(path.dirname(textfile)).filter((f) => f.endsWith(".prom")),
      ["pve-ha-vrrp.prom"],
    );
    assert.match(
      fs.readFileSync(textfile, "utf8"),
      /^pve_ha_vrrp_master\{vrrp_instance="pve_ha_vip"\} 0$/m,
    );
  });

  it("ignores other instances and groups", () => {
    const textfile = path.join(dir, "pve-ha-vrrp.prom");
    assert.strictEqual(notify(textfile, "GROUP", VRRP_INSTANCE, "MASTER", "150").status, 0);
    assert.strictEqual(notify(textfile, "INSTANCE", "other", "MASTER", "150").status, 0);
    assert.ok(!fs.existsSync(textfile));
  });

  it("asks nginx's own health location on loopback, bounded, as nobody", () => {
    const url = `http://127.0.0.1:8081${NGINX_HEALTH_PATH}`;
    const script = renderNginxCheckScript(url);
    assert.match(script, /^exec setpriv --reuid=nobody --regid=nogroup --clear-groups/m);
    assert.match(
      script,
      /curl --silent --fail --output \/dev\/null --max-time 1 'http:\/\/127\.0\.0\.1:8081\/lb-health'$/m,
    );
    assert.throws(() => renderNginxCheckScript("http://10.0.0.1/"), /got "http:\/\/10\.0\.0\.1\/"/);
    const nginx = renderNginxConf({
      upstreams: [{ name: "webserver1", host: "10.0.0.11", port: 3000 }],
      algorithm: "round_robin",
      maxFails: 1,
      failTimeoutSeconds: 2,
      connectTimeoutMs: 500,
      readTimeoutSeconds: 14,
      listenPort: 80,
      stubStatusPort: 8081,
    });
    const stubServer = nginx.slice(nginx.indexOf("listen 127.0.0.1:8081;"));
    assert.match(
      stubServer,
      /location = \/lb-health \{\n\s+default_type text\/plain;\n\s+return 200 "ok\\n";/,
    );
  });

  it("clears the state when keepalived stops, however it stops", () => {
    assert.strictEqual(
      renderKeepalivedStateDropIn()
        .split("\n")
        .filter((l) => l.startsWith("ExecStopPost="))
        .join(),
      `ExecStopPost=${VRRP_NOTIFY_SCRIPT_PATH} INSTANCE ${VRRP_INSTANCE} STOP 0`,
    );
  });

  it("puts keepalived into the sandbox's apt repository, but into no role's install list", () => {
    for (const pkg of KEEPALIVED_PACKAGES) assert.ok(allDebianPackages().includes(pkg), pkg);
    // a single LB (lbReplicas 1) installs the nginx role's list only: no keepalived
    assert.ok(!debianPackages("nginx").includes("keepalived"));
  });
});

describe("payload: keepalived-configure", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "keepalived-payload-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /**
   * The rendered payload with stand-ins after lib.sh: no network wait, no apt, chown a no-op,
   * `keepalived --config-test` answering from FAKE_TEST_STATUS/FAKE_TEST_OUTPUT, and a systemctl
   * that records its calls and, on start/reload, writes the state textfile as the notify would.
   */
  function run(env: Record<string, string> = {}, conf = renderKeepalivedConf(LB)) {
    const p = (name: string) => path.join(dir, name);
    const script = renderPayload("keepalived-configure", {
      PAYLOAD_NAME: "keepalived-configure",
      PACKAGES: "keepalived curl",
      KEEPALIVED_CONF: conf,
      CONF_PATH: p("etc/keepalived/keepalived.conf"),
      CHECK_SCRIPT: renderNginxCheckScript("http://127.0.0.1:8081/lb-health"),
      CHECK_SCRIPT_PATH: p("lib/check-nginx"),
      NOTIFY_SCRIPT: renderVrrpNotifyScript(),
      NOTIFY_SCRIPT_PATH: p("lib/vrrp-state"),
      STATE_DROP_IN: renderKeepalivedStateDropIn(),
      STATE_DROP_IN_PATH: p("units/keepalived.service.d/pve-ha-vrrp-state.conf"),
      TEXTFILE_PATH: p("textfile/pve-ha-vrrp.prom"),
    });
    const [head, body] = script.split("# --- keepalived-configure.sh ---");
    const stubs = `
wait_network() { :; }
apt_install() { echo "apt_install $*" >>'${p("calls")}'; }
chown() { :; }
keepalived() {
  echo "keepalived $*" >>'${p("calls")}'
  [[ -z "$FAKE_TEST_OUTPUT" ]] || echo "$FAKE_TEST_OUTPUT" >&2
  return "$FAKE_TEST_STATUS"
}
systemctl() {
  echo "systemctl $*" >>'${p("calls")}'
  case "$1" in
    is-active) [[ -f '${p("active")}' ]] ;;
    is-failed) return 1 ;;
    start | reload | restart)
      touch '${p("active")}'
      mkdir -p '${p("textfile")}' && printf 'x 0\\n' >'${p("textfile/pve-ha-vrrp.prom")}' ;;
  esac
}`;
    const result = spawnSync("bash", ["-c", `${head}${stubs}\n${body}`], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        PVE_HA_RESTART_DIR: p("restart"),
        PVE_HA_UNIT_DIR: p("units"),
        FAKE_TEST_STATUS: "0",
        FAKE_TEST_OUTPUT: "",
        ...env,
      },
      timeout: 30000,
    });
    const calls = fs.existsSync(p("calls")) ? fs.readFileSync(p("calls"), "utf8") : "";
    fs.rmSync(p("calls"), { force: true });
    return { ...result, calls: calls.trim().split("\n") };
  }

  it("refuses a config keepalived finds fault with, before it replaces the running one", () => {
    const failed = run({ FAKE_TEST_STATUS: "5", FAKE_TEST_OUTPUT: "(pve_ha_vip) rounding" });
    assert.notStrictEqual(failed.status, 0);
    assert.match(failed.stderr, /keepalived --config-test \(exit 5\): \(pve_ha_vip\) rounding/);
    const warned = run({ FAKE_TEST_OUTPUT: "a warning" });
    assert.notStrictEqual(warned.status, 0);
    assert.match(warned.stderr, /keepalived --config-test: a warning/);
    assert.ok(!fs.existsSync(path.join(dir, "etc/keepalived/keepalived.conf")));
    assert.ok(!failed.calls.some((c) => /^systemctl (start|reload|restart)/.test(c)));
  });

  it("installs, writes, tests and starts keepalived, then changes nothing on a second run", () => {
    const first = run();
    assert.strictEqual(first.status, 0, first.stderr);
    assert.match(first.stdout, /^keepalived\.conf changed; x 0 $/m);
    assert.ok(first.calls.includes("apt_install keepalived curl"));
    assert.ok(first.calls.some((c) => /^keepalived --config-test -f \S+$/.test(c)));
    // the new config marks the unit: a stopped keepalived is (re)started
    assert.ok(first.calls.includes("systemctl restart keepalived.service"), first.calls.join("\n"));
    const mode = (f: string) => fs.statSync(path.join(dir, f)).mode & 0o777;
    assert.strictEqual(mode("lib/check-nginx"), 0o755);
    assert.strictEqual(mode("lib/vrrp-state"), 0o755);
    assert.strictEqual(mode("etc/keepalived/keepalived.conf"), 0o644);
    assert.strictEqual(
      fs.readFileSync(path.join(dir, "etc/keepalived/keepalived.conf"), "utf8"),
      renderKeepalivedConf(LB),
    );
    assert.ok(fs.existsSync(path.join(dir, "units/keepalived.service.d/restart.conf")));
    assert.ok(fs.existsSync(path.join(dir, "units/keepalived.service.d/pve-ha-vrrp-state.conf")));
    const second = run();
    assert.strictEqual(second.status, 0, second.stderr);
    assert.match(second.stdout, /^keepalived\.conf unchanged;/m);
    assert.ok(!second.calls.some((c) => /^systemctl (reload|restart)/.test(c)));
    // a changed config reloads the running keepalived (SIGHUP: the virtual IP stays put)
    const third = run({}, renderKeepalivedConf({ ...LB, advertIntervalMs: 300 }));
    assert.strictEqual(third.status, 0, third.stderr);
    assert.ok(third.calls.includes("systemctl reload keepalived.service"), third.calls.join("\n"));
  });
});

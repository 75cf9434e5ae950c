/**
 * The front-door options (lbTls, lbRedirectHttp, lbAdminAuth, lbPost*, lbMaxBodyBytes) and
 * containerFirewall under mocks: the defaults turn them all on, off they leave the paper's plain
 * stack, each on alone adds the right steps and variables, and no secret reaches a plain input,
 * output or trigger (preview included). The option tests start from every option off (OFF).
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { selfSignedPem } from "./self-signed";
import type { RawConfig } from "../../components/config";
import {
  EVERY_OPTION_ON,
  exampleRaw,
  reveal,
  runProgram,
  secretInput,
  transitiveDeps,
  type ProgramRun,
  type Recorded,
} from "./program-harness";
import { previewProblems } from "./preview-walk";

const COMMAND = "command:remote:Command";
const LBS = ["lb", "lb2"];
const NODES = [
  "lb",
  "webserver1",
  "webserver2",
  "pg1",
  "pg2",
  "pgproxy",
  "kafka1",
  "kafka2",
  "kafka3",
  "monitor",
  "lb2",
];
const ADMIN_PASSWORD = "set-admin-password-4711";
const GENERATED_PASSWORD = "mock-password-lb-admin-password";

/** The inputs as JSON with every secret-wrapped part replaced: what is shown in clear. */
function plainText(value: unknown): string {
  const strip = (v: unknown): unknown => {
    if (secretInput(v).secret) return "[secret]";
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return JSON.stringify(strip(value));
}

/** A readonly variable of a rendered payload (single-quoted by renderVars). */
function payloadVar(script: string, name: string): string {
  const match = new RegExp(`^readonly ${name}='((?:[^']|'\\\\'')*)'$`, "m").exec(script);
  assert.ok(match, `no ${name} in the payload`);
  return match[1].replace(/'\\''/g, "'");
}

function stdinOf(r: Recorded): string {
  return String(reveal(r.inputs.stdin) ?? "");
}

function triggersByName(run: ProgramRun): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of run.resources) {
    if (r.type.startsWith("command:remote:")) {
      out.set(r.name, JSON.stringify(reveal(r.inputs.triggers)));
    }
  }
  return out;
}

const OFF: RawConfig = {
  lbTls: "off",
  lbRedirectHttp: "false",
  lbAdminAuth: "false",
  lbAdminUser: "admin",
  lbPostRatePerSecond: "0",
  lbPostBurst: "0",
  lbMaxBodyBytes: "0",
  containerFirewall: "false",
  operatorCidr: "",
};

describe("program: front door security and container firewalls", function () {
  this.timeout(180000);
  let base: ProgramRun;
  let tls: { cert: string; key: string };
  before(async () => {
    base = await runProgram(exampleRaw(OFF));
    tls = selfSignedPem("ec", "lb.test");
  });

  it("every option off: no front-door or firewall step, plain http, only the app's internals denied", async () => {
    const names = base.resources.map((r) => r.name);
    assert.ok(!names.some((n) => /nginx-frontdoor|nftables-configure|admin-password/.test(n)));
    const conf = payloadVar(stdinOf(base.byName("lb-nginx-configure")), "NGINX_CONF");
    assert.ok(!/ssl|auth_basic|limit_req/.test(conf), conf);
    assert.match(conf, /^    client_max_body_size 1m;$/m);
    assert.match(conf, /location \/metrics \{\n {6}return 404;/);
    assert.match(conf, /location \/api\/messages \{\n {6}return 404;/);
    assert.strictEqual(base.outputs.lbUrl, "http://192.168.100.254/");
    assert.strictEqual(base.outputs.lbHttpsUrl, "");
    assert.strictEqual(base.outputs.adminPassword, "");
    assert.ok(base.secretOutputs.has("adminPassword"));
  });

  it("the defaults: self-signed TLS, redirect, /admin and /api/messages behind auth, POST limits, firewalls", async () => {
    const run = await runProgram(exampleRaw());
    for (const lb of LBS) {
      const step = run.byName(`${lb}-nginx-frontdoor`);
      assert.ok(secretInput(step.inputs.stdin).secret, "the admin password makes it secret");
      assert.strictEqual(payloadVar(stdinOf(step), "TLS_MODE"), "self-signed");
      assert.strictEqual(payloadVar(stdinOf(step), "ADMIN_AUTH"), "true");
      const conf = payloadVar(stdinOf(run.byName(`${lb}-nginx-configure`)), "NGINX_CONF");
      assert.match(conf, /return 301 https:\/\/\$host\$request_uri;/);
      assert.match(conf, /listen 443 ssl http2 default_server;/);
      assert.match(conf, /zone=post_per_client:10m rate=50r\/s;/);
      assert.match(conf, /limit_req zone=post_per_client burst=100 nodelay;/);
      assert.match(conf, /client_max_body_size 32768;/);
      for (const path of ["/admin", "/api/messages"]) {
        const at = conf.indexOf(`location ${path} {`);
        assert.ok(at > 0, `${path} location`);
        assert.match(conf.slice(at, conf.indexOf("}", at)), /auth_basic "pve-ha-stack admin";/);
      }
      assert.match(conf, /location \/metrics \{\n {6}return 404;/);
      assert.ok(!conf.includes("location /api/messages {\n      return 404;"));
    }
    assert.deepStrictEqual(
      run.resources
        .filter((r) => r.name.endsWith("-nftables-configure"))
        .map((r) => r.name)
        .sort(),
      NODES.map((n) => `${n}-nftables-configure`).sort(),
    );
    assert.strictEqual(run.outputs.lbUrl, "https://192.168.100.254/");
    assert.strictEqual(run.outputs.lbHttpsUrl, "https://192.168.100.254/");
    assert.strictEqual(run.outputs.adminPassword, GENERATED_PASSWORD);
    const settings = run.outputs.settings as Record<string, unknown>;
    assert.deepStrictEqual(
      [settings.lbTls, settings.lbRedirectHttp, settings.lbAdminAuth, settings.containerFirewall],
      ["self-signed", true, true, true],
    );
    const exposure = run.outputs.exposure as { node: string; port?: number; sources: string[] }[];
    assert.ok(exposure.some((r) => r.node === "lb" && r.port === 443));
    assert.deepStrictEqual(exposure.find((r) => r.node === "monitor" && r.port === 9090)?.sources, [
      "192.168.100.0/24",
    ]);
  });

  it("lbTls self-signed: a plain nginx-frontdoor step per LB before nginx-configure, 443 in nginx.conf", async () => {
    const run = await runProgram(exampleRaw({ ...OFF, lbTls: "self-signed" }));
    for (const [i, lb] of LBS.entries()) {
      const step = run.byName(`${lb}-nginx-frontdoor`);
      assert.ok(!secretInput(step.inputs.stdin).secret, "no secret in a self-signed step");
      const script = stdinOf(step);
      assert.strictEqual(payloadVar(script, "TLS_MODE"), "self-signed");
      assert.strictEqual(
        payloadVar(script, "TLS_SAN_IPS"),
        `192.168.100.254 192.168.100.${[10, 20][i]}`,
      );
      assert.strictEqual(payloadVar(script, "ADMIN_AUTH"), "false");
      const configure = run.byName(`${lb}-nginx-configure`);
      assert.ok(transitiveDeps(run, configure).has(step.resource), `${lb}: configure after files`);
      const conf = payloadVar(stdinOf(configure), "NGINX_CONF");
      assert.match(conf, /listen 443 ssl http2 default_server;/);
      assert.match(conf, /ssl_certificate_key \/etc\/nginx\/tls\/lb\.key;/);
      assert.ok(!conf.includes("return 301"), "no redirect without lbRedirectHttp");
    }
    assert.strictEqual(run.outputs.lbUrl, "http://192.168.100.254/");
    // Only the LBs' nginx-configure re-runs; the new steps come on top.
    const before = triggersByName(base);
    const after = triggersByName(run);
    const changed = [...before.keys()].filter((n) => before.get(n) !== after.get(n)).sort();
    assert.deepStrictEqual(changed, ["lb-nginx-configure", "lb2-nginx-configure"]);
    assert.deepStrictEqual([...after.keys()].filter((n) => !before.has(n)).sort(), [
      "lb-nginx-frontdoor",
      "lb2-nginx-frontdoor",
    ]);
  });

  it("lbTls provided + lbRedirectHttp: the PEM material in a secret step, https URLs", async () => {
    const run = await runProgram(
      exampleRaw({
        ...OFF,
        lbTls: "provided",
        lbTlsCertificate: tls.cert,
        lbTlsPrivateKey: tls.key,
        lbRedirectHttp: "true",
      }),
    );
    for (const lb of LBS) {
      const step = run.byName(`${lb}-nginx-frontdoor`);
      assert.ok(secretInput(step.inputs.stdin).secret);
      assert.strictEqual(step.inputs.logging, "none");
      assert.ok(["stdout", "stderr"].every((o) => step.additionalSecretOutputs.includes(o)));
      assert.match(JSON.stringify(reveal(step.inputs.triggers)), /hmac-sha256:/);
      const script = stdinOf(step);
      assert.strictEqual(payloadVar(script, "TLS_KEY"), tls.key);
      assert.strictEqual(payloadVar(script, "TLS_CERT"), tls.cert);
      const conf = payloadVar(stdinOf(run.byName(`${lb}-nginx-configure`)), "NGINX_CONF");
      assert.match(conf, /return 301 https:\/\/\$host\$request_uri;/);
      assert.match(conf, /Strict-Transport-Security/);
    }
    assert.strictEqual(run.outputs.lbUrl, "https://192.168.100.254/");
    assert.strictEqual(run.outputs.adminUrl, "https://192.168.100.254/admin");
  });

  it("lbAdminAuth: a generated password (RandomPassword, secret output) or the set one", async () => {
    const generated = await runProgram(exampleRaw({ ...OFF, lbAdminAuth: "true" }));
    const pw = generated.byName("lb-admin-password");
    assert.strictEqual(pw.type, "random:index/randomPassword:RandomPassword");
    assert.ok(generated.secretOutputs.has("adminPassword"));
    assert.strictEqual(generated.outputs.adminPassword, GENERATED_PASSWORD);
    assert.strictEqual((generated.outputs.settings as Record<string, unknown>).lbAdminAuth, true);
    for (const lb of LBS) {
      const step = generated.byName(`${lb}-nginx-frontdoor`);
      assert.ok(secretInput(step.inputs.stdin).secret);
      const script = stdinOf(step);
      assert.strictEqual(payloadVar(script, "ADMIN_PASSWORD"), GENERATED_PASSWORD);
      assert.strictEqual(payloadVar(script, "ADMIN_USER"), "admin");
      assert.strictEqual(payloadVar(script, "TLS_MODE"), "off");
      assert.match(script, /openssl passwd -apr1 -salt "\$salt" -stdin/);
      const conf = payloadVar(stdinOf(generated.byName(`${lb}-nginx-configure`)), "NGINX_CONF");
      assert.match(conf, /location \/admin \{\n {6}limit_req zone=admin_auth burst=10 nodelay;/);
      assert.match(conf, /auth_basic_user_file \/etc\/nginx\/pve-ha-admin\.htpasswd;/);
      assert.ok(!conf.includes("ssl"), "no TLS listener without lbTls");
    }
    const set = await runProgram(
      exampleRaw({
        ...OFF,
        lbAdminAuth: "true",
        lbAdminUser: "ops",
        lbAdminPassword: ADMIN_PASSWORD,
      }),
    );
    assert.ok(!set.resources.some((r) => r.name === "lb-admin-password"));
    assert.strictEqual(set.outputs.adminPassword, ADMIN_PASSWORD);
    assert.strictEqual(payloadVar(stdinOf(set.byName("lb-nginx-frontdoor")), "ADMIN_USER"), "ops");
  });

  it("POST limits feed the renderer's limits (body size alone, or rate + burst)", async () => {
    const both = await runProgram(
      exampleRaw({ ...OFF, lbPostRatePerSecond: "10", lbPostBurst: "20", lbMaxBodyBytes: "32768" }),
    );
    const conf = payloadVar(stdinOf(both.byName("lb-nginx-configure")), "NGINX_CONF");
    assert.match(conf, /zone=post_per_client:10m rate=10r\/s;/);
    assert.match(conf, /limit_req zone=post_per_client burst=20 nodelay;/);
    assert.match(conf, /client_max_body_size 32768;/);
    assert.ok(!both.resources.some((r) => r.name.endsWith("nginx-frontdoor")), "no files needed");
    const rateOnly = await runProgram(exampleRaw({ ...OFF, lbPostRatePerSecond: "5" }));
    const rateConf = payloadVar(stdinOf(rateOnly.byName("lb-nginx-configure")), "NGINX_CONF");
    assert.match(rateConf, /client_max_body_size 1048576;/);
    assert.match(rateConf, /burst=0 nodelay;/);
    const bodyOnly = await runProgram(exampleRaw({ ...OFF, lbMaxBodyBytes: "4096" }));
    const bodyConf = payloadVar(stdinOf(bodyOnly.byName("lb2-nginx-configure")), "NGINX_CONF");
    assert.match(bodyConf, /client_max_body_size 4096;/);
    assert.ok(!bodyConf.includes("limit_req"), bodyConf);
  });

  it("containerFirewall: one nftables-configure per node, last on it, from the exposure rules", async () => {
    const run = await runProgram(
      exampleRaw({
        ...OFF,
        containerFirewall: "true",
        operatorCidr: "10.9.0.0/16",
        lbTls: "self-signed",
      }),
    );
    const steps = run.resources.filter((r) => r.name.endsWith("-nftables-configure"));
    assert.deepStrictEqual(
      steps.map((r) => r.name).sort(),
      NODES.map((n) => `${n}-nftables-configure`).sort(),
    );
    const ruleset = (node: string) =>
      payloadVar(stdinOf(run.byName(`${node}-nftables-configure`)), "NFT_RULESET");
    for (const node of NODES) {
      const step = run.byName(`${node}-nftables-configure`);
      assert.ok(!secretInput(step.inputs.stdin).secret, node);
      assert.match(ruleset(node), /type filter hook input priority 0; policy drop;/, node);
      assert.strictEqual(payloadVar(stdinOf(step), "PACKAGES"), "nftables");
      assert.strictEqual(payloadVar(stdinOf(step), "CONF_PATH"), "/etc/nftables.conf");
      // Last on its node: after every other step of the node (configure, exporters...).
      const deps = transitiveDeps(run, step);
      for (const other of run.resources) {
        if (other.type === COMMAND && other.name.startsWith(`${node}-`) && other !== step) {
          const ownFirewallOrOther =
            other.name.endsWith("-nftables-configure") || deps.has(other.resource);
          assert.ok(ownFirewallOrOther, `${step.name} does not wait for ${other.name}`);
        }
      }
    }
    assert.match(ruleset("lb"), /^    tcp dport 443 accept comment "HTTPS front door"$/m);
    assert.match(ruleset("lb"), /^    tcp dport 80 accept comment "HTTP front door"$/m);
    assert.match(
      ruleset("monitor"),
      /^    ip saddr 10\.9\.0\.0\/16 tcp dport 9090 accept comment "Prometheus UI and API"$/m,
    );
    assert.match(
      ruleset("pgproxy"),
      /^    ip saddr \{ 10\.9\.0\.0\/16, 192\.168\.100\.19 \} tcp dport 8404 accept/m,
    );
    assert.match(
      ruleset("webserver1"),
      /^    ip saddr \{ 192\.168\.100\.10, 192\.168\.100\.20 \} tcp dport 3000 accept comment "app HTTP from the LBs"$/m,
    );
    assert.match(
      ruleset("pg1"),
      /^    ip saddr \{ 192\.168\.100\.14, 192\.168\.100\.15 \} tcp dport 5432 accept/m,
    );
    assert.ok(!ruleset("webserver1").includes("dport 443"));
    const settings = run.outputs.settings as Record<string, unknown>;
    assert.strictEqual(settings.containerFirewall, true);
    assert.strictEqual(settings.operatorCidr, "10.9.0.0/16");
  });

  describe("secrets", () => {
    const everything = (extra: RawConfig): RawConfig =>
      exampleRaw({
        ...OFF,
        ...EVERY_OPTION_ON,
        lbTls: "provided",
        lbTlsCertificate: tls.cert,
        lbTlsPrivateKey: tls.key,
        ...extra,
      });

    /** The base64 body lines of the key: none of them may be shown anywhere in clear. */
    const keyLines = () => tls.key.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));

    for (const [what, extra, password] of [
      ["a generated admin password", {}, GENERATED_PASSWORD],
      ["a set admin password", { lbAdminPassword: ADMIN_PASSWORD }, ADMIN_PASSWORD],
    ] as const) {
      it(`with everything on and ${what}: no key or password in a plain input, trigger or output`, async () => {
        const run = await runProgram(everything(extra));
        const secrets = [password, ...keyLines()];
        for (const r of run.resources) {
          const shown = plainText(r.inputs);
          for (const s of secrets) assert.ok(!shown.includes(s), `${r.name} shows a secret`);
          if (r.type !== COMMAND) continue;
          const stdin = stdinOf(r);
          if (secrets.some((s) => stdin.includes(s))) {
            assert.ok(secretInput(r.inputs.stdin).secret, `${r.name}: stdin not secret`);
            assert.strictEqual(r.inputs.logging, "none", r.name);
            assert.ok(
              ["stdout", "stderr"].every((o) => r.additionalSecretOutputs.includes(o)),
              r.name,
            );
          }
          // The password is never an argument: the create line is the pct exec of a script.
          assert.match(
            String(reveal(r.inputs.create)),
            /^(pct exec \d+ -- bash -s|.*pct push.*|mkdir -p .*)$/s,
          );
        }
        for (const [key, value] of Object.entries(run.outputs)) {
          if (run.secretOutputs.has(key)) continue;
          const shown = JSON.stringify(value);
          for (const s of secrets) assert.ok(!shown.includes(s), `output ${key} shows a secret`);
        }
        assert.ok(run.secretOutputs.has("adminPassword"));
        // The secret-carrying steps are exactly the LBs' front-door files (and the stack's own).
        const carriers = run.resources
          .filter((r) => r.type === COMMAND && secrets.some((s) => stdinOf(r).includes(s)))
          .map((r) => r.name)
          .sort();
        assert.deepStrictEqual(carriers, ["lb-nginx-frontdoor", "lb2-nginx-frontdoor"]);
      });
    }

    it("previews with everything on: no secret unknown trigger, the password unknown", async () => {
      const run = await runProgram(everything({}), { preview: true });
      assert.deepStrictEqual(await previewProblems(run), []);
      const triggers = run.byName("lb-nginx-frontdoor").inputs.triggers as unknown[];
      assert.ok(!secretInput(triggers).secret);
      assert.ok(pulumi.isUnknown(triggers[0]));
      const set = await runProgram(everything({ lbAdminPassword: ADMIN_PASSWORD }), {
        preview: true,
      });
      assert.deepStrictEqual(await previewProblems(set), []);
    });
  });
});

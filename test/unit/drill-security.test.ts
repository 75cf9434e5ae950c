import { strict as assert } from "node:assert";
import { selfSignedPem } from "./self-signed";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { parseConfig, planNodes } from "../../components/config";
import { stackEndpoints } from "../../components/config/endpoints";
import { PORTS } from "../../components/config/ports";
import { parseDrillArgs, parseScenarioList } from "../../scripts/drill/args";
import { parseStackOutputs, type StackOutputs } from "../../scripts/drill/outputs";
import {
  expandMatrix,
  judgeMatrix,
  parseProbeOutput,
  renderProbeScript,
  sourceMatches,
} from "../../scripts/drill/security/matrix";
import { parseRawHttpReply, renderRawHttpScript } from "../../scripts/drill/security/rawHttp";
import {
  SECURITY_BOUNDS,
  securityChecks,
  securitySection,
  type SecurityResult,
} from "../../scripts/drill/security/result";
import {
  createCommands,
  removeCommands,
  scratchAddress,
  scratchNetnsPlan,
} from "../../scripts/drill/security/scratchNetns";
import {
  parseSecretsOutput,
  renderSecretsScript,
  secretLines,
  secretsClean,
} from "../../scripts/drill/security/secrets";
import { handshake, parseRouteSource } from "../../scripts/drill/scenarios/s13Security";
import { trustLbCertificates } from "../../scripts/drill/runtime/http";
import { runLoad } from "../../scripts/drill/runtime/load";
import * as tls from "node:tls";
import { table } from "../../scripts/drill/report/format";
import { exampleRaw } from "./program-harness";

/** The outputs the program exports for the example stack (defaults: firewall on, TLS, auth). */
function outputsOf(changes: Record<string, string> = {}): StackOutputs {
  const { config, errors } = parseConfig(exampleRaw(changes));
  if (!config) throw new Error(errors.join("\n"));
  const endpoints = stackEndpoints(config, planNodes(config));
  return parseStackOutputs(JSON.stringify({ ...endpoints, adminPassword: "[secret]" }));
}

describe("drill scenario 13 (security): the exposure matrix", () => {
  const outputs = outputsOf();
  const ip = (name: string) => outputs.nodes.find((n) => n.name === name)?.ip as string;

  it("reads the exposure, the https URL and the front-door settings from the outputs", () => {
    assert.ok(outputs.exposure.length > 20);
    assert.strictEqual(outputs.lbHttpsUrl, "https://192.168.100.254/");
    assert.strictEqual(outputs.adminPassword, undefined, "[secret] is not a password");
    assert.deepStrictEqual(
      [outputs.settings.containerFirewall, outputs.settings.lbAdminAuth, outputs.settings.lbTls],
      [true, true, "self-signed"],
    );
    assert.strictEqual(outputs.settings.lbMaxBodyBytes, 32768);
    const raw = JSON.parse(JSON.stringify(outputs)) as Record<string, unknown>;
    delete raw.exposure;
    raw.nodes = Object.fromEntries(outputs.nodes.map((n) => [n.name, n]));
    assert.throws(() => parseStackOutputs(JSON.stringify(raw)), /exposure: missing/);
  });

  it("matches sources by address and CIDR", () => {
    assert.ok(sourceMatches("10.0.0.0/8", "10.200.1.2"));
    assert.ok(!sourceMatches("10.0.0.0/8", "11.0.0.1"));
    assert.ok(sourceMatches("0.0.0.0/0", "203.0.113.9"));
    assert.ok(sourceMatches("192.168.1.5", "192.168.1.5"));
    assert.ok(!sourceMatches("192.168.1.5", "192.168.1.6"));
  });

  it("from an operator address: the LBs, stats, Prometheus and Alertmanager open, nothing else", () => {
    const targets = expandMatrix(outputs.exposure, outputs.nodes, "192.168.100.1");
    const allowed = targets.filter((t) => t.allowed).map((t) => `${t.node}:${t.port}`);
    assert.deepStrictEqual(
      allowed.sort(),
      [
        `lb2:${PORTS.http}`,
        `lb2:${PORTS.https}`,
        `lb:${PORTS.http}`,
        `lb:${PORTS.https}`,
        `monitor:${PORTS.alertmanager}`,
        `monitor:${PORTS.prometheus}`,
        `pgproxy:${PORTS.haproxyStats}`,
      ].sort(),
    );
    const forbidden = targets.filter((t) => !t.allowed).map((t) => `${t.node}:${t.port}`);
    for (const must of [
      `webserver1:${PORTS.app}`,
      `pg1:${PORTS.postgres}`,
      `kafka1:${PORTS.kafka}`,
      `pgproxy:${PORTS.haproxyReadWrite}`,
    ]) {
      assert.ok(forbidden.includes(must), must);
    }
    // One target per (node, port): the app port's two rules (LBs, monitor) are one path.
    const app = targets.filter((t) => t.node === "webserver1" && t.port === PORTS.app);
    assert.strictEqual(app.length, 1);
    assert.match(app[0].purpose, /from the LBs.*scrape/);
  });

  it("from outside operatorCidr the operator ports are forbidden; from the monitor the app port is allowed", () => {
    const narrow = outputsOf({ operatorCidr: "10.9.0.0/16" });
    const fromNet = expandMatrix(narrow.exposure, narrow.nodes, "192.168.100.1");
    assert.ok(!fromNet.find((t) => t.node === "monitor" && t.port === PORTS.prometheus)?.allowed);
    const fromMonitor = expandMatrix(outputs.exposure, outputs.nodes, ip("monitor"));
    assert.ok(fromMonitor.find((t) => t.node === "webserver1" && t.port === PORTS.app)?.allowed);
    assert.ok(!fromMonitor.some((t) => t.node === "monitor"), "its own ports are loopback");
    const fromApp = expandMatrix(outputs.exposure, outputs.nodes, ip("webserver1"));
    assert.ok(
      fromApp.find((t) => t.node === "pgproxy" && t.port === PORTS.haproxyReadWrite)?.allowed,
    );
    assert.ok(!fromApp.find((t) => t.node === "pg1" && t.port === PORTS.postgres)?.allowed);
  });

  it("judges each path: allowed must be open, forbidden must not be", () => {
    const targets = [
      { node: "a", ip: "10.0.0.1", port: 1, purpose: "x", allowed: true },
      { node: "a", ip: "10.0.0.1", port: 2, purpose: "y", allowed: false },
      { node: "b", ip: "10.0.0.2", port: 2, purpose: "y", allowed: false },
    ];
    const found = parseProbeOutput("10.0.0.1 1 open\n10.0.0.1 2 dropped\n10.0.0.2 2 open\n");
    assert.deepStrictEqual(
      judgeMatrix(targets, found).map((c) => [c.state, c.ok]),
      [
        ["open", true],
        ["dropped", true],
        ["open", false],
      ],
    );
    assert.throws(
      () => judgeMatrix(targets, parseProbeOutput("10.0.0.1 1 open\n")),
      /did not report/,
    );
    assert.throws(() => parseProbeOutput("10.0.0.1 1 maybe"), /unexpected probe output/);
    assert.throws(() => renderProbeScript([{ ip: "10.0.0.1; rm", port: 1 }], 1), /IPv4/);
  });

  it("the probe script tells an open port from a refused one on loopback (bash /dev/tcp)", async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const open = (server.address() as AddressInfo).port;
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    try {
      const script = renderProbeScript(
        [
          { ip: "127.0.0.1", port: open },
          { ip: "127.0.0.1", port: closed },
        ],
        1,
      );
      const out = await new Promise<string>((resolve) => {
        const child = spawnSync("bash", ["-c", script], { encoding: "utf8" });
        resolve(child.stdout);
      });
      const found = parseProbeOutput(out);
      assert.strictEqual(found.get(`127.0.0.1:${open}`), "open");
      assert.strictEqual(found.get(`127.0.0.1:${closed}`), "refused");
    } finally {
      server.close();
    }
  });

  it("finds this machine's source address in `ip route get`", () => {
    assert.strictEqual(
      parseRouteSource("10.213.47.10 dev pvehab0 src 10.213.47.1 uid 0 \n    cache \n"),
      "10.213.47.1",
    );
    assert.strictEqual(parseRouteSource("RTNETLINK answers: Network is unreachable"), null);
  });
});

describe("drill scenario 13 (security): requests from inside a node, secrets, scratch namespace", () => {
  it("a raw HTTP request from bash reaches a loopback server with its headers and body", async () => {
    let seen = { method: "", auth: "", body: "" };
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen = { method: req.method ?? "", auth: String(req.headers["idempotency-key"]), body };
        res.writeHead(202, { "X-Served-By": "webserver9" });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const script = renderRawHttpScript({
        ip: "127.0.0.1",
        port,
        method: "POST",
        path: "/messages",
        headers: { "content-type": "application/json", "idempotency-key": "k-1" },
        body: '{"body":"hi"}',
        timeoutS: 5,
      });
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn("bash", ["-c", script]);
        let text = "";
        child.stdout.on("data", (c: Buffer) => (text += c.toString()));
        child.on("error", reject);
        child.on("close", () => resolve(text));
        child.stdin.end('{"body":"hi"}');
      });
      const reply = parseRawHttpReply(out);
      assert.strictEqual(reply.status, 202);
      assert.strictEqual(reply.headers["x-served-by"], "webserver9");
      assert.strictEqual(reply.body, '{"ok":true}');
      assert.deepStrictEqual(seen, { method: "POST", auth: "k-1", body: '{"body":"hi"}' });
    } finally {
      server.close();
    }
    assert.strictEqual(parseRawHttpReply("").status, 0);
    assert.throws(
      () =>
        renderRawHttpScript({ ip: "1.2.3.4", port: 80, method: "GET", path: "/'x", timeoutS: 1 }),
      /bad path/,
    );
  });

  it("searches only real secret values and reports counts, paths and modes, never a value", () => {
    assert.strictEqual(
      secretLines(["", "short", "long-enough-1", "long-enough-1", "a\nb-long-enough", undefined]),
      "long-enough-1\n",
    );
    const script = renderSecretsScript(["/etc/pve-ha-app/app.env"]);
    assert.match(script, /grep -F -c -f "\$f"/);
    assert.match(script, /stat -c 'mode %a %U:%G %n' \/etc\/pve-ha-app\/app\.env/);
    assert.throws(() => renderSecretsScript(["/etc/x y"]), /bad path/);
    const clean = parseSecretsOutput(
      "webserver1",
      "ps 0\njournal 0\nmode 600 root:root /etc/pve-ha-app/app.env\n",
    );
    assert.ok(secretsClean(clean));
    const leaky = parseSecretsOutput(
      "lb",
      "ps 1\njournal 0\nreadable /etc/nginx/x.conf\nmode 644 root:root /etc/nginx/tls/lb.key\n",
    );
    assert.ok(!secretsClean(leaky));
    assert.deepStrictEqual(leaky.readableWithSecret, ["/etc/nginx/x.conf"]);
    assert.ok(leaky.credentialFiles[0].worldReadable);
    assert.ok(!secretsClean({ ...clean, credentialFiles: leaky.credentialFiles }));
    assert.throws(() => parseSecretsOutput("x", "mode 600 a:b /f"), /no ps\/journal counts/);
  });

  it("the secrets script finds a secret in a world-readable file and not in a private one", () => {
    const dir = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
    try {
      execFileSync("bash", [
        "-c",
        `echo 'pw=the-secret-value-42' > ${dir}/open.env; chmod 644 ${dir}/open.env; cp ${dir}/open.env ${dir}/private.env; chmod 600 ${dir}/private.env`,
      ]);
      // The same find | grep as the script, over the temporary directory only.
      const out = execFileSync(
        "bash",
        [
          "-c",
          `f=$(mktemp); cat >"$f"; find ${dir} -type f -perm -o=r -print0 | xargs -0 -r grep -l -F -f "$f"; rm -f "$f"`,
        ],
        { input: secretLines(["the-secret-value-42"]), encoding: "utf8" },
      );
      assert.deepStrictEqual(out.trim().split("\n"), [`${dir}/open.env`]);
    } finally {
      execFileSync("rm", ["-rf", dir]);
    }
  });

  it("the rendered scripts are valid bash and shellcheck-clean (when shellcheck is installed)", function () {
    const scripts = [
      renderProbeScript([{ ip: "10.0.0.1", port: 80 }], 1),
      renderRawHttpScript({
        ip: "10.0.0.1",
        port: 80,
        method: "POST",
        path: "/messages",
        headers: { "idempotency-key": "k" },
        body: "x",
        timeoutS: 2,
      }),
      renderSecretsScript(["/etc/pve-ha-app/app.env"]),
    ];
    for (const text of scripts) {
      const syntax = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
      assert.strictEqual(syntax.status, 0, syntax.stderr);
    }
    if (spawnSync("shellcheck", ["--version"]).status !== 0) this.skip();
    for (const text of scripts) {
      const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: text, encoding: "utf8" });
      assert.strictEqual(r.status, 0, r.stdout);
    }
  });

  it("plans a scratch namespace on a free address of the subnet with short interface names", () => {
    assert.strictEqual(scratchAddress("10.213.47.0/24", ["10.213.47.254"]), "10.213.47.253");
    assert.strictEqual(scratchAddress("10.213.47.0/24", []), "10.213.47.254");
    assert.throws(() => scratchAddress("10.0.0.0/30", ["10.0.0.1", "10.0.0.2"]), /no free address/);
    const plan = scratchNetnsPlan(4194303, "pvehab0", "10.213.47.0/24", ["10.213.47.254"]);
    assert.strictEqual(plan.address, "10.213.47.253/24");
    for (const name of [plan.hostIf, plan.nsIf]) assert.ok(name.length <= 15, name);
    const create = createCommands(plan).map((a) => a.join(" "));
    assert.ok(create[0].startsWith("netns add pvehasec"));
    assert.ok(create.some((c) => c === `link set ${plan.hostIf} master pvehab0`));
    assert.ok(create.some((c) => c.includes(`addr add 10.213.47.253/24 dev ${plan.nsIf}`)));
    assert.deepStrictEqual(
      removeCommands(plan).map((a) => a[a.length - 1]),
      [plan.hostIf, plan.netns],
    );
  });
});

describe("drill scenario 13 (security): the TLS client trials on loopback", function () {
  this.timeout(30000);
  let cert = "";
  let key = "";
  before(() => {
    ({ cert, key } = selfSignedPem("ec", "lb", "127.0.0.1"));
  });
  after(() => trustLbCertificates([]));

  /** A TLS server on loopback speaking the versions given, with the test certificate. */
  async function server(min: tls.SecureVersion, max: tls.SecureVersion): Promise<tls.Server> {
    const s = tls.createServer(
      { cert, key, minVersion: min, maxVersion: max, ciphers: "DEFAULT@SECLEVEL=0" },
      (socket) => socket.end(),
    );
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    return s;
  }

  it("tells a server that speaks only TLS 1.2/1.3 from one that also speaks TLS 1.0/1.1", async () => {
    trustLbCertificates([cert]);
    const modern = await server("TLSv1.2", "TLSv1.3");
    const old = await server("TLSv1", "TLSv1.3");
    try {
      const url = (s: tls.Server) =>
        new URL(`https://127.0.0.1:${(s.address() as AddressInfo).port}/`);
      const trials = async (s: tls.Server) => {
        const out: Record<string, boolean> = {};
        for (const p of ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const) {
          out[p] = (await handshake(url(s), p)).accepted;
        }
        return out;
      };
      assert.deepStrictEqual(await trials(modern), {
        TLSv1: false,
        "TLSv1.1": false,
        "TLSv1.2": true,
        "TLSv1.3": true,
      });
      // The client can speak the old protocols: a server that accepts them is caught.
      assert.deepStrictEqual(await trials(old), {
        TLSv1: true,
        "TLSv1.1": true,
        "TLSv1.2": true,
        "TLSv1.3": true,
      });
      // Without the LB's certificate trusted, even TLS 1.3 is not accepted (verification on).
      trustLbCertificates([]);
      assert.strictEqual((await handshake(url(modern), "TLSv1.3")).accepted, false);
    } finally {
      modern.close();
      old.close();
    }
  });
});

describe("drill loads over https: the certificate is verified before autocannon starts", function () {
  this.timeout(30000);
  it("refuses an https target whose certificate the drill does not trust, runs against a trusted one", async () => {
    const { cert, key } = selfSignedPem("ec", "lb", "127.0.0.1");
    const server = https.createServer({ cert, key }, (_req, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const spec = { label: "t", url, method: "GET" as const, connections: 1, amount: 3 };
    try {
      trustLbCertificates([]);
      await assert.rejects(runLoad(spec), /did not verify or answer/);
      trustLbCertificates([cert]);
      const run = await runLoad(spec);
      assert.strictEqual(run.summary.ok, 3);
    } finally {
      trustLbCertificates([]);
      server.close();
    }
  });
});

describe("drill scenario 13 (security): pass conditions and report", () => {
  const cell = (port: number, allowed: boolean, state: "open" | "refused" | "dropped") => ({
    node: "webserver1",
    ip: "10.0.0.11",
    port,
    purpose: "p",
    allowed,
    state,
    ok: allowed ? state === "open" : state !== "open",
  });
  const passing = (): SecurityResult => ({
    containerFirewall: true,
    lbTls: "self-signed",
    lbRedirectHttp: true,
    lbAdminAuth: true,
    vantages: [
      {
        name: "this machine",
        sourceIp: "10.0.0.1",
        cells: [cell(80, true, "open"), cell(3000, false, "dropped")],
      },
      { name: "a scratch namespace", sourceIp: "", skipped: "stack target", cells: [] },
    ],
    admin: [{ what: "/admin without credentials: 401", status: 401, want: "401", ok: true }],
    bruteForce: { tries: 30, statuses: { "401": 9, "429": 21 }, firstLimitedTry: 10 },
    tls: {
      url: "https://10.0.0.254/",
      protocols: [
        { protocol: "TLSv1.1", wantAccepted: false, accepted: false, detail: "alert" },
        { protocol: "TLSv1.3", wantAccepted: true, accepted: true, detail: "TLSv1.3" },
      ],
      redirect: { what: "redirect", status: 301, want: "301 or 308 to https", ok: true },
    },
    rateLimit: {
      oversize: { what: "oversize 413", status: 413, want: "413", ok: true },
      flood: { sent: 900, statuses: { "202": 150, "429": 750 }, first429Ms: 300 },
      paced: { client: "ns", sent: 8, statuses: { "202": 8 } },
    },
    secrets: {
      searched: 3,
      nodes: [
        { node: "lb", psHits: 0, journalHits: 0, readableWithSecret: [], credentialFiles: [] },
      ],
    },
    durationS: 70,
  });

  it("passes a secured stack", () => {
    const checks = securityChecks(passing());
    assert.deepStrictEqual(
      checks.filter((c) => !c.pass),
      [],
    );
    assert.ok(checks.every((c) => c.scenario === 13));
    assert.ok(checks.length >= 10);
  });

  it("fails the stack before (no firewall, no auth, no limit) and names what was open", () => {
    const before: SecurityResult = {
      ...passing(),
      containerFirewall: false,
      vantages: [
        {
          name: "this machine",
          sourceIp: "10.0.0.1",
          cells: [cell(80, true, "open"), cell(3000, false, "open")],
        },
      ],
      admin: [{ what: "/admin without credentials: 401", status: 200, want: "401", ok: false }],
      bruteForce: { tries: 30, statuses: { "200": 30 }, firstLimitedTry: null },
      rateLimit: null,
      tls: null,
    };
    const failed = securityChecks(before).filter((c) => !c.pass);
    assert.deepStrictEqual(
      failed.map((c) => c.name),
      [
        `from this machine (10.0.0.1): every forbidden path refused or dropped within ${SECURITY_BOUNDS.probeTimeoutS} s`,
        "/admin without credentials: 401",
        `brute force on /admin slowed: 429 or 503 within ${SECURITY_BOUNDS.bruteForceTries} wrong tries`,
        "TLS at the LB",
        "POST rate limit at the LB",
      ],
    );
    assert.match(failed[0].detail, /webserver1:3000 \(p\) open/);
    const section = securitySection(before, table).join("\n");
    assert.match(section, /containerFirewall \*\*off\*\*/);
    assert.match(section, /\| webserver1 \| 3000 \| p +\| forbidden \| open +\| \*\*FAIL\*\* \|/);
  });

  it("fails a late 429, a refused paced client, a leaked secret and an accepted TLS 1.1", () => {
    const r = passing();
    r.rateLimit!.flood.first429Ms = SECURITY_BOUNDS.first429WithinMs + 1;
    r.rateLimit!.paced!.statuses = { "202": 7, "429": 1 };
    r.secrets!.nodes[0].journalHits = 1;
    r.tls!.protocols[0].accepted = true;
    const failed = securityChecks(r)
      .filter((c) => !c.pass)
      .map((c) => c.name);
    assert.strictEqual(failed.length, 4, failed.join("\n"));
  });

  it("runs as scenario 13 or by name, only when asked for", () => {
    assert.deepStrictEqual(parseScenarioList("security"), [13]);
    assert.deepStrictEqual(parseScenarioList("12,13"), [12, 13]);
    assert.ok(!parseDrillArgs(["--target", "sandbox"]).scenarios.includes(13));
  });
});

import * as fs from "node:fs";
import * as nodeHttp from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { PORTS } from "../../../components/config/ports";
import { APP_ENV_FILE } from "../../../components/render/app";
import { LB_HTPASSWD_PATH, LB_TLS_KEY_PATH } from "../../../components/render/nginxSecurity";
import { run } from "../../sandbox/exec";
import { SANDBOX_BRIDGE } from "../../sandbox/sandbox-config";
import { sandboxPaths } from "../../sandbox/paths";
import { loadState } from "../../sandbox/state";
import { nodesByRole, type StackNode } from "../outputs";
import type { DrillContext } from "../runtime/context";
import { basicAuth, drillCa, http, sleep, type HttpReply } from "../runtime/http";
import { httpFromNode } from "../runtime/nodeHttp";
import { REPO_ROOT } from "../runtime/stackOutputs";
import {
  expandMatrix,
  judgeMatrix,
  parseProbeOutput,
  renderProbeScript,
  type MatrixTarget,
} from "../security/matrix";
import {
  SECURITY_BOUNDS,
  type SecurityResult,
  type SecurityVantage,
  type StatusProbe,
  type TlsProtocolTrial,
} from "../security/result";
import {
  parseSecretsOutput,
  renderSecretsScript,
  secretLines,
  type NodeSecretFindings,
} from "../security/secrets";
import {
  createCommands,
  removeCommands,
  scratchNetnsPlan,
  type ScratchNetnsPlan,
} from "../security/scratchNetns";
import { lbMessagesUrl } from "./faultRun";

/** The address this machine sends from towards `ip` (`ip route get`). */
export function parseRouteSource(text: string): string | null {
  return / src (\d{1,3}(?:\.\d{1,3}){3})/.exec(text)?.[1] ?? null;
}

async function hostSource(ip: string): Promise<string> {
  const r = await run("ip", ["-4", "route", "get", ip]);
  const src = parseRouteSource(r.stdout);
  if (r.code !== 0 || !src) throw new Error(`ip route get ${ip}: no source address (${r.stderr})`);
  return src;
}

/** The port of a URL, the protocol's default when it names none. */
function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === "https:" ? PORTS.https : PORTS.http;
}

async function walk(
  name: string,
  sourceIp: string,
  ctx: DrillContext,
  runScript: (script: string) => Promise<string>,
): Promise<SecurityVantage> {
  const targets: MatrixTarget[] = expandMatrix(ctx.outputs.exposure, ctx.outputs.nodes, sourceIp);
  const script = renderProbeScript(targets, SECURITY_BOUNDS.probeTimeoutS);
  const cells = judgeMatrix(targets, parseProbeOutput(await runScript(script)));
  const open = cells.filter((c) => c.state === "open").length;
  ctx.log(`  matrix from ${name} (${sourceIp}): ${cells.length} paths, ${open} open`);
  return { name, sourceIp, cells };
}

async function scriptOutput(
  what: string,
  r: { code: number; stdout: string; stderr: string },
): Promise<string> {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.slice(-300)}`);
  return r.stdout;
}

/** Creates the scratch namespace; registers its removal for an interrupt. */
async function createNetns(ctx: DrillContext, plan: ScratchNetnsPlan): Promise<void> {
  const remove = async (): Promise<void> => {
    for (const args of removeCommands(plan)) await run("ip", args);
  };
  ctx.undo.set(`scratch netns ${plan.netns}`, remove);
  // A namespace of the same name left by a drill that was killed outright goes first.
  await remove();
  for (const args of createCommands(plan)) {
    const r = await run("ip", args);
    if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
  }
}

async function removeNetns(ctx: DrillContext, plan: ScratchNetnsPlan): Promise<void> {
  for (const args of removeCommands(plan)) await run("ip", args);
  ctx.undo.delete(`scratch netns ${plan.netns}`);
}

function statusProbe(what: string, r: HttpReply, want: number[], extra = true): StatusProbe {
  return {
    what,
    status: r.status,
    want: want.join(" or "),
    ok: want.includes(r.status) && extra,
    ...(r.status === 0 ? { detail: r.text.slice(0, 120) } : {}),
  };
}

async function adminProbes(ctx: DrillContext, marker: string): Promise<StatusProbe[]> {
  const url = ctx.outputs.adminUrl;
  const user = ctx.outputs.settings.lbAdminUser;
  const out: StatusProbe[] = [];
  const none = await http(url);
  const leaked = none.text.includes(marker) || /message_uid|produced_by/.test(none.text);
  out.push({
    ...statusProbe("/admin without credentials: 401, no message in the body", none, [401], !leaked),
    ...(leaked ? { detail: "the body shows stored messages" } : {}),
  });
  out.push(
    statusProbe(
      "/admin with a wrong password: 401",
      await http(url, { headers: basicAuth(user, "wrong-password-of-the-drill") }),
      [401],
    ),
  );
  if (ctx.admin) {
    const auth = basicAuth(ctx.admin.user, ctx.admin.password);
    let right = await http(url, { headers: auth });
    // The marker message may still be on its way to PostgreSQL: at most three looks.
    for (let i = 0; i < 2 && right.status === 200 && !right.text.includes(marker); i++) {
      await sleep(3000);
      right = await http(url, { headers: auth });
    }
    out.push({
      ...statusProbe(
        "/admin with the right credentials: 200 with the messages",
        right,
        [200],
        right.text.includes(marker),
      ),
      ...(right.status === 200 && !right.text.includes(marker)
        ? { detail: "the drill's marker message is not on the page" }
        : {}),
    });
  }
  const api = new URL("/api/messages?limit=1", ctx.outputs.lbUrl).toString();
  out.push(
    statusProbe(
      "GET /api/messages through the LB without credentials: 401 (404 without admin auth)",
      await http(api),
      ctx.outputs.settings.lbAdminAuth ? [401] : [404],
    ),
  );
  out.push(
    statusProbe(
      "GET /metrics through the LB: 404 (Prometheus scrapes the app nodes)",
      await http(new URL("/metrics", ctx.outputs.lbUrl).toString()),
      [404],
    ),
  );
  return out;
}

async function bruteForce(ctx: DrillContext): Promise<SecurityResult["bruteForce"]> {
  const statuses: Record<string, number> = {};
  let firstLimitedTry: number | null = null;
  const auth = basicAuth(ctx.outputs.settings.lbAdminUser, "brute-force-guess");
  for (let i = 1; i <= SECURITY_BOUNDS.bruteForceTries; i++) {
    const r = await http(ctx.outputs.adminUrl, { headers: auth, timeoutMs: 5000 });
    statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
    if (firstLimitedTry === null && (r.status === 429 || r.status === 503)) firstLimitedTry = i;
  }
  return { tries: SECURITY_BOUNDS.bruteForceTries, statuses, firstLimitedTry };
}

/** One TLS handshake limited to `protocol`; accepted when it completes with a trusted certificate. */
export function handshake(url: URL, protocol: tls.SecureVersion): Promise<TlsProtocolTrial> {
  const wantAccepted = protocol === "TLSv1.2" || protocol === "TLSv1.3";
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: url.hostname,
      port: portOf(url),
      minVersion: protocol,
      maxVersion: protocol,
      // The client offers old protocols too (OpenSSL 3 refuses them below level 0): a refusal is
      // then the server's.
      ciphers: "DEFAULT@SECLEVEL=0",
      ca: drillCa(),
      timeout: 5000,
    });
    const done = (accepted: boolean, detail: string): void => {
      socket.destroy();
      resolve({ protocol, wantAccepted, accepted, detail });
    };
    socket.once("secureConnect", () =>
      done(true, `${socket.getProtocol() ?? "?"} ${socket.getCipher()?.name ?? ""}`.trim()),
    );
    socket.once("error", (e) => done(false, e.message.slice(0, 160)));
    socket.once("timeout", () => done(false, "no handshake within 5 s"));
  });
}

/** GET over plain HTTP without following: status and Location. */
function plainGet(url: string): Promise<{ status: number; location: string }> {
  return new Promise((resolve) => {
    const req = nodeHttp.get(url, { signal: AbortSignal.timeout(5000) }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: String(res.headers.location ?? "") });
    });
    req.on("error", () => resolve({ status: 0, location: "" }));
  });
}

async function tlsTrials(ctx: DrillContext): Promise<SecurityResult["tls"]> {
  if (!ctx.outputs.lbHttpsUrl) return null;
  const url = new URL(ctx.outputs.lbHttpsUrl);
  const protocols: TlsProtocolTrial[] = [];
  for (const p of ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const) {
    protocols.push(await handshake(url, p));
  }
  let redirect: StatusProbe | null = null;
  if (ctx.outputs.settings.lbRedirectHttp) {
    const plain = new URL(url.toString());
    plain.protocol = "http:";
    plain.pathname = "/admin";
    const r = await plainGet(plain.toString());
    const toHttps = r.location.startsWith(`https://${url.hostname}`);
    redirect = {
      what: "plain HTTP answers a redirect to https",
      status: r.status,
      want: "301 or 308 to https",
      ok: (r.status === 301 || r.status === 308) && toHttps,
      detail: `Location ${r.location || "none"}`,
    };
  }
  return { url: url.toString(), protocols, redirect };
}

interface PacedClient {
  name: string;
  post: (uid: string) => Promise<number>;
}

function postInit(uid: string): { headers: Record<string, string>; body: string } {
  return {
    headers: { "content-type": "application/json", "idempotency-key": uid },
    body: JSON.stringify({ body: `security drill ${uid}` }),
  };
}

async function rateLimit(
  ctx: DrillContext,
  paced: PacedClient | null,
  note: string,
): Promise<SecurityResult["rateLimit"]> {
  const s = ctx.outputs.settings;
  if (s.lbPostRatePerSecond === 0) return null;
  const url = lbMessagesUrl(ctx.outputs.lbUrl);
  const prefix = `${ctx.runId}-p${ctx.nextPhase()}`;
  // The oversize body first: once the flood emptied this client's bucket, 429 would come first.
  const big = await http(url, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": `${prefix}-big` },
    body: JSON.stringify({ body: "x".repeat(s.lbMaxBodyBytes) }),
  });
  const oversize = statusProbe(`POST of ${s.lbMaxBodyBytes + 1}+ bytes: 413 at the LB`, big, [413]);
  const statuses: Record<string, number> = {};
  const pacedStatuses: Record<string, number> = {};
  let sent = 0;
  let pacedSent = 0;
  let first429Ms: number | null = null;
  const started = Date.now();
  const until = started + SECURITY_BOUNDS.floodSeconds * 1000;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; Date.now() < until; i++) {
      const r = await http(url, {
        method: "POST",
        ...postInit(`${prefix}-f${w}-${i}`),
        timeoutMs: 5000,
      });
      sent++;
      statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
      if (r.status === 429 && first429Ms === null) first429Ms = Date.now() - started;
    }
  };
  const pacedLoop = async (): Promise<void> => {
    if (!paced) return;
    const every = 1000 / SECURITY_BOUNDS.pacedPerSecond;
    for (let i = 0; Date.now() < until; i++) {
      const t0 = Date.now();
      const status = await paced.post(`${prefix}-paced-${i}`);
      pacedSent++;
      pacedStatuses[String(status)] = (pacedStatuses[String(status)] ?? 0) + 1;
      await sleep(Math.max(0, every - (Date.now() - t0)));
    }
  };
  await Promise.all([
    ...Array.from({ length: SECURITY_BOUNDS.floodWorkers }, (_, w) => worker(w)),
    pacedLoop(),
  ]);
  ctx.log(
    `  flood: ${sent} POSTs, first 429 after ${first429Ms ?? "never"} ms; paced: ${pacedSent} (${JSON.stringify(pacedStatuses)})`,
  );
  return {
    oversize,
    flood: { sent, statuses, first429Ms },
    paced: paced ? { client: paced.name, sent: pacedSent, statuses: pacedStatuses } : null,
    ...(paced ? {} : { note }),
  };
}

/** A second client in the scratch namespace (curl from this machine's binaries). */
function netnsClient(ctx: DrillContext, plan: ScratchNetnsPlan, caFile: string): PacedClient {
  const url = lbMessagesUrl(ctx.outputs.lbUrl);
  return {
    name: `scratch namespace ${plan.ip}`,
    post: async (uid) => {
      const init = postInit(uid);
      const r = await run(
        "ip",
        [
          "netns",
          "exec",
          plan.netns,
          "curl",
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-m",
          "5",
          "--cacert",
          caFile,
          "-H",
          `content-type: ${init.headers["content-type"]}`,
          "-H",
          `idempotency-key: ${uid}`,
          "--data-binary",
          "@-",
          url,
        ],
        { stdin: init.body },
      );
      return Number(r.stdout.trim()) || 0;
    },
  };
}

/** A second client inside a stack node (plain HTTP only: bash has no TLS). */
function nodeClient(ctx: DrillContext, node: StackNode): PacedClient | null {
  const url = new URL(lbMessagesUrl(ctx.outputs.lbUrl));
  if (url.protocol !== "http:") return null;
  return {
    name: `${node.name} ${node.ip}`,
    post: async (uid) => {
      const init = postInit(uid);
      const r = await httpFromNode(ctx, node, {
        ip: url.hostname,
        port: portOf(url),
        method: "POST",
        path: url.pathname,
        headers: init.headers,
        body: init.body,
        timeoutS: 5,
      });
      return r.status;
    },
  };
}

/** Every secret value the drill knows: the app's database password, the admin password, and on
 * the sandbox every generated password of its state. */
function knownSecrets(ctx: DrillContext): string[] {
  const values = [ctx.db.password, ctx.admin?.password ?? ""];
  if (ctx.opts.target === "sandbox") {
    const state = loadState(sandboxPaths(REPO_ROOT).stateFile);
    for (const r of Object.values(state.resources)) {
      if (r.type === "random:index/randomPassword:RandomPassword") {
        const v = r.outputs.result;
        if (typeof v === "string") values.push(v);
      }
    }
  }
  return values;
}

function credentialFilesOf(node: StackNode): string[] {
  if (node.role === "app") return [APP_ENV_FILE];
  if (node.role === "nginx") return [LB_HTPASSWD_PATH, LB_TLS_KEY_PATH];
  return [];
}

async function secretsCheck(ctx: DrillContext): Promise<SecurityResult["secrets"]> {
  const lines = secretLines(knownSecrets(ctx));
  const searched = lines.split("\n").filter((l) => l !== "").length;
  const nodes: NodeSecretFindings[] = [];
  for (const node of ctx.outputs.nodes) {
    const r = await ctx.pct.run(
      ["exec", String(node.vmid), "--", "bash", "-c", renderSecretsScript(credentialFilesOf(node))],
      { stdin: lines, timeoutMs: 120_000 },
    );
    nodes.push(
      parseSecretsOutput(node.name, await scriptOutput(`secrets check on ${node.name}`, r)),
    );
  }
  return { searched, nodes };
}

/**
 * Scenario 13: the exposure matrix walked from this machine, from a scratch namespace on the
 * sandbox bridge and from an app node; /admin and the other protected paths through the LB; TLS
 * protocols and the redirect; the two-client POST limit; secrets inside every container.
 */
export async function securityDrill(ctx: DrillContext): Promise<SecurityResult> {
  const started = Date.now();
  const s = ctx.outputs.settings;
  const lb = nodesByRole(ctx.outputs, "nginx")[0];
  const vantages: SecurityVantage[] = [];
  vantages.push(
    await walk("this machine", await hostSource(lb.ip), ctx, async (script) =>
      scriptOutput("probe from this machine", await run("bash", ["-c", script])),
    ),
  );
  let plan: ScratchNetnsPlan | null = null;
  const caDir = fs.mkdtempSync(path.join(os.tmpdir(), "pve-ha-security-"));
  const caFile = path.join(caDir, "lb-ca.pem");
  try {
    if (ctx.opts.target === "sandbox") {
      const used = [
        ...ctx.outputs.nodes.map((n) => n.ip),
        ...(ctx.outputs.lbVirtualIp ? [ctx.outputs.lbVirtualIp] : []),
        SANDBOX_BRIDGE.gateway,
      ];
      plan = scratchNetnsPlan(process.pid, SANDBOX_BRIDGE.name, SANDBOX_BRIDGE.subnet, used);
      await createNetns(ctx, plan);
      const ns = plan.netns;
      vantages.push(
        await walk(`a scratch namespace on ${SANDBOX_BRIDGE.name}`, plan.ip, ctx, async (script) =>
          scriptOutput(
            "probe from the scratch namespace",
            await run("ip", ["netns", "exec", ns, "bash", "-c", script]),
          ),
        ),
      );
    } else {
      vantages.push({
        name: "a scratch namespace",
        sourceIp: "",
        skipped: "only on the sandbox (a real stack's bridge is not this machine's)",
        cells: [],
      });
    }
    const app = ctx.appNodes[0];
    vantages.push(
      await walk(`app node ${app.name}`, app.ip, ctx, async (script) =>
        scriptOutput(
          `probe from ${app.name}`,
          await ctx.pct.run(["exec", String(app.vmid), "--", "bash", "-c", script]),
        ),
      ),
    );

    // A message only /admin with the right credentials may show.
    const marker = `${ctx.runId}-marker`;
    const posted = await http(lbMessagesUrl(ctx.outputs.lbUrl), {
      method: "POST",
      ...postInit(marker),
    });
    if (posted.status !== 202) throw new Error(`the marker POST got HTTP ${posted.status}`);
    const admin = await adminProbes(ctx, `security drill ${marker}`);
    const tlsResult = await tlsTrials(ctx);

    fs.writeFileSync(caFile, drillCa().join("\n"), { mode: 0o600 });
    const monitor = nodesByRole(ctx.outputs, "monitor")[0];
    const paced = plan ? netnsClient(ctx, plan, caFile) : monitor ? nodeClient(ctx, monitor) : null;
    const rl = await rateLimit(
      ctx,
      paced,
      "no scratch namespace and the front door speaks https (bash in a node has no TLS)",
    );
    // Last of the HTTP part: it leaves this machine rate-limited on /admin for about a minute.
    const brute = s.lbAdminAuth
      ? await bruteForce(ctx)
      : { tries: 0, statuses: {}, firstLimitedTry: null };
    const secrets = await secretsCheck(ctx);
    return {
      containerFirewall: s.containerFirewall,
      lbTls: s.lbTls,
      lbRedirectHttp: s.lbRedirectHttp,
      lbAdminAuth: s.lbAdminAuth,
      vantages,
      admin,
      bruteForce: brute,
      tls: tlsResult,
      rateLimit: rl,
      secrets,
      durationS: (Date.now() - started) / 1000,
    };
  } finally {
    if (plan) await removeNetns(ctx, plan);
    fs.rmSync(caDir, { recursive: true, force: true });
  }
}

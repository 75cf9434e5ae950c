/**
 * Scenario 13's result, its pass conditions and its report section (pure). The figures are what
 * the drill saw; the bounds are SECURITY_BOUNDS.
 */
import type { Check } from "../types";
import type { MatrixCell } from "./matrix";
import { secretsClean, type NodeSecretFindings } from "./secrets";

export const SECURITY_SCENARIO = 13;

export const SECURITY_BOUNDS = {
  /** A forbidden path must be refused or dropped within this (the issue's 1 s). */
  probeTimeoutS: 1,
  /** The flooding client's first 429 within this of the flood's start. */
  first429WithinMs: 2000,
  /** Wrong-password tries sent in a row; the admin zone allows a burst of ADMIN_BURST. */
  bruteForceTries: 30,
  /** Seconds the flood runs, and the paced client's POSTs per second meanwhile. */
  floodSeconds: 4,
  floodWorkers: 24,
  pacedPerSecond: 2,
} as const;

/** One place the matrix was walked from. */
export interface SecurityVantage {
  name: string;
  sourceIp: string;
  /** why it was not walked (e.g. no scratch namespace on a real stack); cells then empty */
  skipped?: string;
  cells: MatrixCell[];
}

/** One HTTP answer the drill judged: what it asked, the status, whether it held. */
export interface StatusProbe {
  what: string;
  status: number;
  want: string;
  ok: boolean;
  detail?: string;
}

export interface TlsProtocolTrial {
  protocol: string;
  wantAccepted: boolean;
  accepted: boolean;
  detail: string;
}

export interface SecurityResult {
  containerFirewall: boolean;
  lbTls: string;
  lbRedirectHttp: boolean;
  lbAdminAuth: boolean;
  vantages: SecurityVantage[];
  /** /admin and the other protected paths through the LB */
  admin: StatusProbe[];
  bruteForce: { tries: number; statuses: Record<string, number>; firstLimitedTry: number | null };
  /** null: lbTls off */
  tls: { url: string; protocols: TlsProtocolTrial[]; redirect: StatusProbe | null } | null;
  rateLimit: {
    oversize: StatusProbe;
    flood: { sent: number; statuses: Record<string, number>; first429Ms: number | null };
    /** null: no second client (no scratch namespace) */
    paced: { client: string; sent: number; statuses: Record<string, number> } | null;
    note?: string;
  } | null;
  secrets: { searched: number; nodes: NodeSecretFindings[] } | null;
  durationS: number;
}

const check = (name: string, pass: boolean, detail: string): Check => ({
  scenario: SECURITY_SCENARIO,
  name,
  pass,
  detail,
});

const counts = (s: Record<string, number>): string =>
  Object.entries(s)
    .sort()
    .map(([k, v]) => `${k}×${v}`)
    .join(", ") || "none";

function cellName(c: MatrixCell): string {
  return `${c.node}:${c.port} (${c.purpose}) ${c.state}`;
}

export function securityChecks(r: SecurityResult): Check[] {
  const out: Check[] = [];
  for (const v of r.vantages) {
    if (v.skipped) continue;
    const forbidden = v.cells.filter((c) => !c.allowed);
    const allowed = v.cells.filter((c) => c.allowed);
    const open = forbidden.filter((c) => !c.ok);
    const closed = allowed.filter((c) => !c.ok);
    out.push(
      check(
        `from ${v.name} (${v.sourceIp}): every forbidden path refused or dropped within ${SECURITY_BOUNDS.probeTimeoutS} s`,
        forbidden.length > 0 && open.length === 0,
        open.length === 0
          ? `${forbidden.length} forbidden paths, none open`
          : `open: ${open.map(cellName).join("; ")}`,
      ),
      check(
        `from ${v.name} (${v.sourceIp}): every allowed path open`,
        closed.length === 0,
        closed.length === 0
          ? `${allowed.length} allowed paths open`
          : `not open: ${closed.map(cellName).join("; ")}`,
      ),
    );
  }
  for (const a of r.admin) {
    out.push(
      check(a.what, a.ok, `HTTP ${a.status} (want ${a.want})${a.detail ? `; ${a.detail}` : ""}`),
    );
  }
  out.push(
    check(
      `brute force on /admin slowed: 429 or 503 within ${SECURITY_BOUNDS.bruteForceTries} wrong tries`,
      r.bruteForce.firstLimitedTry !== null,
      `first limited try ${r.bruteForce.firstLimitedTry ?? "none"}; answers ${counts(r.bruteForce.statuses)}`,
    ),
  );
  if (!r.tls) {
    out.push(check("TLS at the LB", false, "lbTls is off: plain HTTP only"));
  } else {
    for (const p of r.tls.protocols) {
      out.push(
        check(
          `TLS client: ${p.protocol} ${p.wantAccepted ? "accepted" : "refused"}`,
          p.accepted === p.wantAccepted,
          p.detail,
        ),
      );
    }
    if (r.tls.redirect) {
      const d = r.tls.redirect;
      out.push(
        check(d.what, d.ok, `HTTP ${d.status} (want ${d.want})${d.detail ? `; ${d.detail}` : ""}`),
      );
    }
  }
  if (!r.rateLimit) {
    out.push(check("POST rate limit at the LB", false, "lbPostRatePerSecond is 0: no limit"));
  } else {
    const rl = r.rateLimit;
    out.push(
      check(
        rl.oversize.what,
        rl.oversize.ok,
        `HTTP ${rl.oversize.status} (want ${rl.oversize.want})`,
      ),
      check(
        `flooding client gets 429 within ${SECURITY_BOUNDS.first429WithinMs} ms`,
        rl.flood.first429Ms !== null && rl.flood.first429Ms <= SECURITY_BOUNDS.first429WithinMs,
        `first 429 after ${rl.flood.first429Ms ?? "never"} ms; ${rl.flood.sent} POSTs: ${counts(rl.flood.statuses)}`,
      ),
    );
    if (rl.paced) {
      const ok = rl.paced.statuses["202"] ?? 0;
      out.push(
        check(
          `paced client (${rl.paced.client}) keeps its 202s during the flood`,
          rl.paced.sent > 0 && ok === rl.paced.sent,
          `${ok} of ${rl.paced.sent} got 202: ${counts(rl.paced.statuses)}`,
        ),
      );
    }
  }
  if (r.secrets) {
    for (const n of r.secrets.nodes) {
      out.push(
        check(
          `${n.node}: no secret in ps, the journal or a world-readable file; credential files not world-readable`,
          r.secrets.searched > 0 && secretsClean(n),
          `${r.secrets.searched} secrets searched; ps ${n.psHits}, journal ${n.journalHits}, world-readable files with a secret: ${n.readableWithSecret.join(", ") || "none"}; ` +
            (n.credentialFiles.map((c) => `${c.path} ${c.mode} ${c.owner}`).join(", ") ||
              "no known credential file"),
        ),
      );
    }
  }
  return out;
}

/** The matrix of one vantage as a table: one row per (node, port). */
function matrixRows(v: SecurityVantage): string[][] {
  return v.cells.map((c) => [
    c.node,
    String(c.port),
    c.purpose,
    c.allowed ? "allowed" : "forbidden",
    c.state,
    c.ok ? "ok" : "**FAIL**",
  ]);
}

/** The report section; `table` renders a Markdown table. */
export function securitySection(
  r: SecurityResult | undefined,
  table: (header: readonly string[], rows: ReadonlyArray<readonly string[]>) => string,
): string[] {
  if (!r) return [];
  const failed = securityChecks(r).filter((c) => !c.pass).length;
  const out = [
    `## Scenario ${SECURITY_SCENARIO} — security of the front door and the operator endpoints`,
    "",
    `containerFirewall ${r.containerFirewall ? "on" : '**off** (the matrix below is the stack without it: "before")'}, lbTls ${r.lbTls}, lbRedirectHttp ${r.lbRedirectHttp}, lbAdminAuth ${r.lbAdminAuth}. ${failed === 0 ? "PASS" : `FAIL (${failed})`}; ${r.durationS.toFixed(1)} s.`,
    "",
  ];
  for (const v of r.vantages) {
    out.push(`### Exposure matrix from ${v.name} (${v.sourceIp || "–"})`, "");
    if (v.skipped) {
      out.push(`Not walked: ${v.skipped}.`, "");
      continue;
    }
    const open = v.cells.filter((c) => c.state === "open").length;
    out.push(
      `${v.cells.length} TCP paths, ${open} open; forbidden = not allowed by the exposure rules for this source (refused or dropped within ${SECURITY_BOUNDS.probeTimeoutS} s passes).`,
      "",
      table(["node", "port", "purpose", "rules", "found", ""], matrixRows(v)),
      "",
    );
  }
  const probes = [...r.admin, ...(r.tls?.redirect ? [r.tls.redirect] : [])];
  if (r.rateLimit) probes.push(r.rateLimit.oversize);
  out.push(
    table(
      ["request", "HTTP", "want", ""],
      probes.map((p) => [p.what, String(p.status), p.want, p.ok ? "ok" : "**FAIL**"]),
    ),
    "",
  );
  if (r.tls) {
    out.push(
      table(
        ["TLS protocol", "want", "result"],
        r.tls.protocols.map((p) => [
          p.protocol,
          p.wantAccepted ? "accepted" : "refused",
          `${p.accepted ? "accepted" : "refused"}: ${p.detail}`,
        ]),
      ),
      "",
    );
  }
  if (r.rateLimit) {
    const rl = r.rateLimit;
    out.push(
      `Rate limit: the flooding client sent ${rl.flood.sent} POSTs in ${SECURITY_BOUNDS.floodSeconds} s (${counts(rl.flood.statuses)}), first 429 after ${rl.flood.first429Ms ?? "never"} ms; ` +
        (rl.paced
          ? `the paced client ${rl.paced.client} sent ${rl.paced.sent} (${counts(rl.paced.statuses)}).`
          : `no second client${rl.note ? ` (${rl.note})` : ""}.`),
      "",
    );
  }
  out.push(
    `Brute force: ${r.bruteForce.tries} wrong passwords in a row: ${counts(r.bruteForce.statuses)}, first limited at try ${r.bruteForce.firstLimitedTry ?? "never"}.`,
    "",
  );
  return out;
}

import { run } from "./exec";
import {
  parsePromTargets,
  parseQuorumVoters,
  parseRows,
  parseTopicDescription,
} from "./check-parse";
import type { SandboxPaths } from "./paths";
import type { NodeRef, Topology } from "./topology";
import { logLine } from "./steps";
import {
  KAFKA_LIBS_DIR,
  KAFKA_LOG4J2_CONFIG,
  kafkaTopicDescribeCommand,
} from "../../components/render/kafka";
import { localPsqlArgv } from "../../components/render/postgres";

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

const HTTP_TIMEOUT_MS = 5000;
const PROMETHEUS_FIRST_SCRAPE_MS = 90_000;

async function httpGet(url: string): Promise<{ status: number; servedBy: string; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  return {
    status: res.status,
    servedBy: res.headers.get("x-served-by") ?? "",
    body: await res.text(),
  };
}

function pctExec(paths: SandboxPaths, vmid: number, argv: string[], stdin?: string) {
  return run(`${paths.shimDir}/pct`, ["exec", String(vmid), "--", ...argv], {
    env: { ...process.env, PVE_HA_SANDBOX_LXC_PATH: paths.lxcPath },
    stdin,
    timeoutMs: 60_000,
  });
}

async function psql(
  paths: SandboxPaths,
  t: Topology,
  vmid: number,
  db: string,
  sql: string,
): Promise<string[][]> {
  const r = await pctExec(
    paths,
    vmid,
    localPsqlArgv(t.pgPort, db, ["-X", "-tA", "-F", "|", "-c", sql]),
  );
  if (r.code !== 0) throw new Error(`psql on ${vmid} failed: ${r.stderr.trim()}`);
  return parseRows(r.stdout);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The LB spreads sequential requests over every app node (paper table 1), with no failed request. */
export async function checkLoadBalancer(t: Topology): Promise<CheckResult> {
  const requests = 2 * t.appNodes.length + 2;
  const seen: string[] = [];
  let failed = 0;
  for (let i = 0; i < requests; i++) {
    try {
      const r = await httpGet(t.lbUrl);
      if (r.status !== 200) failed++;
      seen.push(r.servedBy || "?");
    } catch {
      failed++;
    }
  }
  const counts = t.appNodes.map((n) => `${n.name}=${seen.filter((s) => s === n.name).length}`);
  const allServed = t.appNodes.every((n) => seen.includes(n.name));
  return {
    name: "LB answers from every app node",
    ok: allServed && failed === 0,
    detail: `${requests} requests to ${t.lbUrl}: ${counts.join(" ")}, failed=${failed}`,
  };
}

/** The PostgreSQL nodes by their role now: exactly one not in recovery is the primary. */
export async function pgRoles(
  paths: SandboxPaths,
  t: Topology,
): Promise<{ primary: NodeRef; standbys: NodeRef[] }> {
  const inRecovery = await Promise.all(
    t.pgNodes.map(
      async (n) => (await psql(paths, t, n.vmid, "postgres", "SELECT pg_is_in_recovery()"))[0]?.[0],
    ),
  );
  const primaries = t.pgNodes.filter((_, i) => inRecovery[i] === "f");
  if (primaries.length !== 1) {
    throw new Error(
      `expected one writable PostgreSQL node, found ${primaries.length} (${t.pgNodes.map((n, i) => `${n.name}: in recovery ${String(inRecovery[i])}`).join(", ")})`,
    );
  }
  return { primary: primaries[0], standbys: t.pgNodes.filter((_, i) => inRecovery[i] === "t") };
}

/** A message posted through the LB is stored on the primary and replicated to the standby. */
export async function checkMessageFlow(paths: SandboxPaths, t: Topology): Promise<CheckResult> {
  const body = `sandbox-check ${new Date().toISOString()} ${Math.random().toString(36).slice(2)}`;
  const res = await fetch(`${t.lbUrl.replace(/\/$/, "")}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ body }),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  if (res.status >= 300) {
    return {
      name: "message stored and replicated",
      ok: false,
      detail: `POST /messages -> ${res.status}`,
    };
  }
  const sql = `SELECT message_uid, stored_by FROM messages WHERE body = '${body.replace(/'/g, "''")}'`;
  const { primary: primaryNode, standbys } = await pgRoles(paths, t);
  const standbyNode = standbys[0];
  const started = Date.now();
  let primary: string[][] = [];
  let standby: string[][] = [];
  while (Date.now() - started < 30_000) {
    primary = await psql(paths, t, primaryNode.vmid, t.pgDatabase, sql);
    if (primary.length > 0 && standbyNode) {
      standby = await psql(paths, t, standbyNode.vmid, t.pgDatabase, sql);
    }
    if (primary.length > 0 && standby.length > 0) break;
    await sleep(500);
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  return {
    name: "message stored on the primary and visible on the standby",
    ok: primary.length === 1 && standby.length === 1,
    detail:
      primary.length === 1
        ? `uid ${primary[0][0]} stored by ${primary[0][1]}; on standby: ${standby.length === 1 ? "yes" : "no"} (${secs} s)`
        : `POST -> ${res.status}, not stored on the primary after ${secs} s`,
  };
}

export async function checkReplication(paths: SandboxPaths, t: Topology): Promise<CheckResult> {
  const { primary, standbys } = await pgRoles(paths, t);
  const rows = await psql(
    paths,
    t,
    primary.vmid,
    "postgres",
    "SELECT client_addr, state, sync_state FROM pg_stat_replication",
  );
  const streaming = rows.filter((r) => standbys.some((s) => s.ip === r[0]) && r[1] === "streaming");
  return {
    name: `pg_stat_replication: standby streaming from the primary (${primary.name})`,
    ok: standbys.length > 0 && streaming.length === standbys.length,
    detail: rows.length
      ? rows.map((r) => `${r[0]} ${r[1]} ${r[2]}`).join("; ")
      : "no replication connection",
  };
}

function kafkaTool(mainClass: string, args: string[]): string[] {
  return [
    "/usr/bin/java",
    "-Xmx128m",
    `-Dlog4j2.configurationFile=${KAFKA_LOG4J2_CONFIG}`,
    "-cp",
    `${KAFKA_LIBS_DIR}/*`,
    mainClass,
    ...args,
  ];
}

export async function checkKafkaQuorum(paths: SandboxPaths, t: Topology): Promise<CheckResult> {
  const r = await pctExec(
    paths,
    t.kafkaBrokers[0].vmid,
    kafkaTool("org.apache.kafka.tools.MetadataQuorumCommand", [
      "--bootstrap-server",
      t.kafkaBootstrap,
      "describe",
      "--status",
    ]),
  );
  const q = parseQuorumVoters(r.stdout);
  const want = t.kafkaVoterIds.slice().sort((a, b) => a - b);
  return {
    name: "Kafka quorum has every voter",
    ok:
      r.code === 0 &&
      JSON.stringify(q.voters) === JSON.stringify(want) &&
      want.includes(q.leaderId ?? -1),
    detail:
      r.code === 0
        ? `voters ${q.voters.join(",")} (want ${want.join(",")}), leader ${q.leaderId}`
        : r.stderr.trim().slice(-300),
  };
}

export async function checkKafkaTopic(paths: SandboxPaths, t: Topology): Promise<CheckResult> {
  const argv = kafkaTopicDescribeCommand({
    bootstrapServers: t.kafkaBootstrap,
    topic: t.kafkaTopic,
  });
  const r = await pctExec(paths, t.kafkaBrokers[0].vmid, argv);
  if (r.code !== 0)
    return { name: `Kafka topic ${t.kafkaTopic}`, ok: false, detail: r.stderr.trim().slice(-300) };
  const d = parseTopicDescription(r.stdout);
  const isrFull = d.partitions.every((p) => p.isr.length === t.kafkaReplicationFactor);
  return {
    name: `Kafka topic ${t.kafkaTopic}: RF and ISR`,
    ok:
      d.replicationFactor === t.kafkaReplicationFactor &&
      d.partitions.length === d.partitionCount &&
      isrFull,
    detail:
      `partitions ${d.partitionCount}, RF ${d.replicationFactor} (want ${t.kafkaReplicationFactor}), ` +
      `min.insync.replicas ${d.minInsyncReplicas ?? "default"}, ` +
      d.partitions
        .map((p) => `p${p.partition} replicas ${p.replicas.join(",")} isr ${p.isr.join(",")}`)
        .join("; "),
  };
}

/** Waits (bounded) until Prometheus has loaded its targets and scraped each once, then reports their health. */
export async function checkPrometheus(t: Topology): Promise<CheckResult> {
  const url = `${t.prometheusUrl.replace(/\/$/, "")}/api/v1/targets?state=active`;
  const deadline = Date.now() + PROMETHEUS_FIRST_SCRAPE_MS;
  let targets = parsePromTargets((await httpGet(url)).body);
  while (
    (targets.length === 0 || targets.some((x) => x.health === "unknown")) &&
    Date.now() < deadline
  ) {
    await sleep(2000);
    targets = parsePromTargets((await httpGet(url)).body);
  }
  const down = targets.filter((x) => x.health !== "up");
  return {
    name: "Prometheus: every target up",
    ok: targets.length > 0 && down.length === 0,
    detail:
      `${targets.length - down.length}/${targets.length} up` +
      (down.length
        ? `; not up: ${down.map((x) => `${x.job}/${x.instance} (${x.health}: ${x.lastError})`).join(", ")}`
        : ""),
  };
}

/** Memory in use by each container's processes (sum of RSS), in MiB. */
export async function measureRss(paths: SandboxPaths, t: Topology): Promise<CheckResult> {
  const parts: string[] = [];
  let total = 0;
  for (const n of t.nodes) {
    const r = await pctExec(paths, n.vmid, ["ps", "-e", "-o", "rss="]);
    const kib = r.stdout.split("\n").reduce((sum, l) => sum + (Number(l.trim()) || 0), 0);
    total += kib;
    parts.push(`${n.name} ${(kib / 1024).toFixed(0)}`);
  }
  return {
    name: "total RSS of the stack",
    ok: true,
    detail: `${(total / 1024).toFixed(0)} MiB (${parts.join(", ")})`,
  };
}

async function guarded(name: string, fn: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await fn();
  } catch (e) {
    return { name, ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
}

/** Runs every check from the host against the containers' addresses; prints one line each. */
export async function runChecks(paths: SandboxPaths, t: Topology): Promise<boolean> {
  const results = [
    await guarded("LB", () => checkLoadBalancer(t)),
    await guarded("message flow", () => checkMessageFlow(paths, t)),
    await guarded("replication", () => checkReplication(paths, t)),
    await guarded("Kafka quorum", () => checkKafkaQuorum(paths, t)),
    await guarded("Kafka topic", () => checkKafkaTopic(paths, t)),
    await guarded("Prometheus targets", () => checkPrometheus(t)),
  ];
  for (const r of results) logLine(`    [${r.ok ? "ok" : "FAIL"}] ${r.name}: ${r.detail}`);
  logLine(
    "    [info] Grafana: not installed in the sandbox (no package source); its provisioning is checked offline",
  );
  const rss = await guarded("RSS", () => measureRss(paths, t));
  logLine(`    [info] ${rss.name}: ${rss.detail}`);
  const failed = results.filter((r) => !r.ok).length;
  logLine(`checks: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0;
}

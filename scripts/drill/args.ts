export type DrillTarget = "sandbox" | "stack";

import { HARD_FAULT_WINDOW } from "./bounds";

export interface DrillOptions {
  target: DrillTarget;
  outputsFile?: string;
  scenarios: number[];
  outDir: string;
  /** Scenario 1: requests and concurrency of the load through the LB. */
  requests: number;
  concurrency: number;
  /** Rate (requests/s) of the write loads of scenarios 3, 4 and 6. */
  writeRate: number;
  /** Seconds each failover load runs. */
  faultLoadSeconds: number;
  /** Scenario 5: seconds of the steady write load whose scrapes are measured. */
  scrapeWindowSeconds: number;
  /** Scenario 4: how many broker-stop trials follow the normal-load trial. */
  kafkaTrials: number;
  /** Scenario 10: trials of each LB-pair fault (SIGKILL nginx, pct stop, link down). */
  lbPairTrials: number;
  /** scenario 14: trials of each fault of the PostgreSQL primary */
  pgFailoverTrials: number;
  /** Scenario 8: seconds each link-down fault keeps the link down. */
  linkDownSeconds: number;
  /** Scenario 8: only these faults (ids such as kill-kafka1, link-lb, or node names); all if empty */
  hardFaults: string[];
  /** SSH user on every Proxmox host instead of each host's sshUser of the outputs */
  sshUser?: string;
  sshOptions: string[];
  pctPath?: string;
}

export const ALL_SCENARIOS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] as const;
/** Scenarios 8 (the hard-fault family, ~12 min) and 9-14 (host loss, LB pair, rolling updates, backups, security, PostgreSQL failover) run only when asked for. */
export const DEFAULT_SCENARIOS = [1, 2, 3, 4, 5, 6, 7] as const;
/** Named scenario families accepted by --scenarios. */
const SCENARIO_NAMES: Readonly<Record<string, number>> = {
  "hard-faults": 8,
  "host-loss": 9,
  "lb-pair": 10,
  "rolling-update": 11,
  "backup-restore": 12,
  security: 13,
  "pg-failover": 14,
};

const DEFAULTS: Omit<DrillOptions, "target"> = {
  scenarios: [...DEFAULT_SCENARIOS],
  outDir: "reports/drill",
  requests: 10000,
  concurrency: 32,
  writeRate: 40,
  faultLoadSeconds: 40,
  scrapeWindowSeconds: 180,
  kafkaTrials: 3,
  lbPairTrials: 3,
  pgFailoverTrials: 3,
  linkDownSeconds: HARD_FAULT_WINDOW.linkDownDefaultS,
  hardFaults: [],
  sshOptions: [],
};

export const USAGE = `usage: npm run drill -- --target sandbox|stack [options]
  --outputs <file.json>    stack outputs (default: .sandbox/outputs.json for sandbox,
                           \`pulumi stack output --json\` for stack)
  --scenarios 1,2,...      scenarios to run (default 1,2,3,4,5,6,7; 8 or hard-faults: SIGKILL and
                           link down of every node; 9 or host-loss: every container of one
                           Proxmox host stopped at once, host by host; 10 or lb-pair: SIGKILL
                           of nginx, pct stop and link down of the LB pair's VIP holder; 11 or
                           rolling-update: day-2 changes through the sandbox's up under load;
                           12 or backup-restore; 13 or security: the exposure matrix from this
                           machine, a scratch namespace and an app node, /admin auth, TLS, the
                           POST limits with two clients, secrets in the containers; 14 or
                           pg-failover: SIGKILL, pct stop and link down of the PostgreSQL
                           primary with pgFailover auto, writes back, two writers, commits kept)
  --out <dir>              report directory (default reports/drill)
  --requests <n>           scenario 1 load size (default 10000)
  --concurrency <n>        scenario 1 concurrency (default 32)
  --write-rate <n>         requests/s of the write loads (default 40)
  --fault-seconds <n>      length of each failover load (default 40)
  --scrape-window <n>      scenario 5: seconds of steady write load whose scrapes are timed (default 180)
  --kafka-trials <n>       broker-stop trials in scenario 4 (default 3)
  --lb-pair-trials <n>     scenario 10: trials of each fault of the VIP holder (default 3)
  --pg-failover-trials <n> scenario 14: trials of each fault of the PostgreSQL primary (default 3)
  --link-down-seconds <n>  scenario 8: how long each link stays down (default ${HARD_FAULT_WINDOW.linkDownDefaultS}, ${HARD_FAULT_WINDOW.linkDownMinS}-${HARD_FAULT_WINDOW.linkDownMaxS})
  --hard-faults <list>     scenario 8: only these faults, e.g. kill-kafka1,link-lb or a node name
  --ssh-user <user>        SSH user on every Proxmox host (stack; default: each host's sshUser of
                           the outputs; env DRILL_SSH_USER)
  --ssh-option <opt>       extra ssh -o option, repeatable (env DRILL_SSH_OPTIONS, space separated)
  --pct <path>             pct command to run (sandbox; default scripts/sandbox/pct)`;

function positiveInt(flag: string, raw: string | undefined, max: number): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isInteger(n) || n < 1 || n > max) {
    throw new Error(`${flag} must be an integer in 1..${max} (got ${raw ?? "nothing"})`);
  }
  return n;
}

export function parseScenarioList(raw: string | undefined): number[] {
  if (!raw) throw new Error("--scenarios needs a list such as 1,3,6 (got nothing)");
  const out = new Set<number>();
  for (const part of raw.split(",")) {
    const n = SCENARIO_NAMES[part.trim()] ?? Number(part.trim());
    if (!(ALL_SCENARIOS as readonly number[]).includes(n)) {
      throw new Error(
        `--scenarios: unknown scenario "${part}" (valid: 1-${ALL_SCENARIOS.length}, ${Object.keys(SCENARIO_NAMES).join(", ")}; got ${raw})`,
      );
    }
    out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/** The value following `flag`; a missing value or another flag in its place is an error. */
function valueAfter(flag: string, v: string | undefined): string {
  if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`);
  return v;
}

function parseTarget(v: string): DrillTarget {
  if (v !== "sandbox" && v !== "stack") {
    throw new Error(`--target must be sandbox or stack (got ${v})`);
  }
  return v;
}

/** Parses the CLI arguments; env supplies SSH defaults. Throws one Error naming the bad value. */
export function parseDrillArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): DrillOptions {
  let target: DrillTarget | undefined;
  const opts: Omit<DrillOptions, "target"> = {
    ...DEFAULTS,
    scenarios: [...DEFAULTS.scenarios],
    ...(env.DRILL_SSH_USER ? { sshUser: env.DRILL_SSH_USER } : {}),
    sshOptions: (env.DRILL_SSH_OPTIONS ?? "").split(/\s+/).filter((s) => s.length > 0),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => valueAfter(flag, argv[++i]);
    switch (flag) {
      case "--target":
        target = parseTarget(value());
        break;
      case "--outputs":
        opts.outputsFile = value();
        break;
      case "--scenarios":
        opts.scenarios = parseScenarioList(value());
        break;
      case "--out":
        opts.outDir = value();
        break;
      case "--requests":
        opts.requests = positiveInt(flag, value(), 1_000_000);
        break;
      case "--concurrency":
        opts.concurrency = positiveInt(flag, value(), 1024);
        break;
      case "--write-rate":
        opts.writeRate = positiveInt(flag, value(), 5000);
        break;
      case "--fault-seconds":
        opts.faultLoadSeconds = positiveInt(flag, value(), 600);
        if (opts.faultLoadSeconds < 20) {
          throw new Error(`--fault-seconds must be at least 20 (got ${opts.faultLoadSeconds})`);
        }
        break;
      case "--scrape-window":
        opts.scrapeWindowSeconds = positiveInt(flag, value(), 600);
        if (opts.scrapeWindowSeconds < 30) {
          throw new Error(`--scrape-window must be at least 30 (got ${opts.scrapeWindowSeconds})`);
        }
        break;
      case "--kafka-trials":
        opts.kafkaTrials = positiveInt(flag, value(), 10);
        break;
      case "--lb-pair-trials":
        opts.lbPairTrials = positiveInt(flag, value(), 10);
        break;
      case "--pg-failover-trials":
        opts.pgFailoverTrials = positiveInt(flag, value(), 10);
        break;
      case "--link-down-seconds":
        opts.linkDownSeconds = positiveInt(flag, value(), HARD_FAULT_WINDOW.linkDownMaxS);
        if (opts.linkDownSeconds < HARD_FAULT_WINDOW.linkDownMinS) {
          throw new Error(
            `--link-down-seconds must be at least ${HARD_FAULT_WINDOW.linkDownMinS} (got ${opts.linkDownSeconds})`,
          );
        }
        break;
      case "--hard-faults":
        opts.hardFaults = value()
          .split(",")
          .map((x) => x.trim())
          .filter((x) => x.length > 0);
        break;
      case "--ssh-user":
        opts.sshUser = value();
        break;
      case "--ssh-option":
        opts.sshOptions.push(value());
        break;
      case "--pct":
        opts.pctPath = value();
        break;
      default:
        throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  if (!target) throw new Error(`--target is required (sandbox or stack)\n${USAGE}`);
  return { target, ...opts };
}

export interface BenchScrapeOptions {
  target: DrillTarget;
  outputsFile?: string;
  /** window in minutes, ending now */
  minutes: number;
}

export const BENCH_SCRAPE_MAX_MINUTES = 24 * 60;

export const BENCH_SCRAPE_USAGE = `usage: npm run bench:scrape -- --target sandbox|stack [--outputs file.json] [--minutes N]
  --outputs <file.json>    stack outputs (default: .sandbox/outputs.json for sandbox,
                           \`pulumi stack output --json\` for stack)
  --minutes <n>            window ending now, in minutes (default 15, at most ${BENCH_SCRAPE_MAX_MINUTES})`;

/** Arguments of the scrape benchmark; throws one Error naming the bad value. */
export function parseBenchScrapeArgs(argv: readonly string[]): BenchScrapeOptions {
  let target: DrillTarget | undefined;
  let outputsFile: string | undefined;
  let minutes = 15;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => valueAfter(flag, argv[++i]);
    switch (flag) {
      case "--target":
        target = parseTarget(value());
        break;
      case "--outputs":
        outputsFile = value();
        break;
      case "--minutes":
        minutes = positiveInt(flag, value(), BENCH_SCRAPE_MAX_MINUTES);
        break;
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  if (!target) throw new Error("--target is required (sandbox or stack)");
  return { target, minutes, ...(outputsFile ? { outputsFile } : {}) };
}

import type { AlertMilestones } from "./alertTimeline";
import type { SecurityResult } from "./security/result";
import type { QuorumStatus, TopicInfo } from "./parse/kafka";
import type { TableDigest } from "./parse/postgres";
import type { TargetHealth } from "./parse/prometheus";
import type { WindowProgress } from "./progress";

export interface Check {
  scenario: number;
  name: string;
  pass: boolean;
  detail: string;
}

/** One load run (autocannon or sequential requests). */
export interface LoadSummary {
  label: string;
  requests: number;
  ok: number;
  non2xx: number;
  /** transport errors and timeouts */
  errors: number;
  successPct: number;
  p50Ms: number | null;
  p99Ms: number | null;
  rps: number | null;
  durationS: number;
  servedBy: Record<string, number>;
}

export interface SequentialTrial {
  trial: number;
  requests: number;
  ok: number;
  servedBy: Record<string, number>;
}

export interface LbSplitResult {
  appNodes: string[];
  /** settings.lbAlgorithm of the outputs (absent in reports of older runs: round_robin) */
  lbAlgorithm?: string;
  sequential: SequentialTrial[];
  viaLb: LoadSummary;
  /** null: not run, the app nodes take HTTP only from the LBs and the monitor (containerFirewall) */
  direct: LoadSummary | null;
  /** container CPU of each app node (and the LB) during the via-LB load, % of one core */
  cpuPct: Record<string, number | null>;
}

export interface WebWriteMessage {
  uid: string;
  status: number;
  servedBy: string;
  producedBy: string | null;
  storedBy: string | null;
  onAdminPage: boolean;
}

export interface WebWriteResult {
  appNodes: string[];
  messages: WebWriteMessage[];
  adminServedBy: string[];
  waitedMs: number;
}

export interface ReplicationTrial {
  trial: number;
  uid: string;
  /** POST -> 202 */
  ackMs: number | null;
  /** POST sent -> row visible on the primary / on the standby */
  primaryMs: number | null;
  standbyMs: number | null;
}

export interface ReplicationResult {
  trials: ReplicationTrial[];
  standbyState: string | null;
  syncState: string | null;
  load: LoadSummary;
  lagMsSamples: number[];
  lagBytesSamples: number[];
  primary: TableDigest;
  standby: TableDigest;
  /** how close the poll-based visibility timings can be (one pct exec + psql round trip) */
  pollResolutionMs: number;
  /** container CPU of the primary during the write load, % of one core */
  pgCpuPct: number | null;
  /** the primary's container CPU time per stored message during the write load */
  pgCpuMsPerWrite: number | null;
}

/** Progress of the write path while a fault is injected: [t ms, acked, stored]. */
export type ProgressSample = [number, number, number];

export interface FaultRun {
  name: string;
  trigger: string;
  stopped: string | null;
  faultAtMs: number | null;
  load: LoadSummary;
  acked: number;
  stored: number;
  missing: string[];
  maxLag: number;
  /** longest consumer pause: stored count standing still with a backlog */
  pauseS: number;
  /** longest time without an acknowledged (2xx) request after the fault: the producer-side stall */
  ackGapS: number;
  recoveryS: number | null;
  timelinePng: string | null;
  timelineSvg: string | null;
  /** failed requests by cause: `HTTP <status>`, `timeout` or a transport error code */
  failures?: Record<string, number>;
  /** the LB's access-log view of the run's POSTs (scripts/drill/parse/nginxLog.ts) */
  lbSide?: string;
  /** when the first and the last failed request were sent, s after the fault (scheduled load) */
  failedSentS?: { first: number; last: number };
  /** the requests the load finished after the fault healed (heal and afterRestore done) */
  afterHeal?: { requests: number; failed: number };
  /** rows beyond one per message_uid of the load (absent in reports of older runs) */
  duplicates?: number;
  /** writes acknowledged and stored from the fault in place (inject returned) until the heal began */
  faultWindow?: WindowProgress;
}

export interface KafkaResult {
  topic: TopicInfo;
  quorum: QuorumStatus;
  /** settings.kafkaReplicationFactor of the outputs */
  expectedReplicationFactor: number;
  /** settings.kafkaMinInsyncReplicas (absent in reports of older runs) */
  expectedMinInsync?: number;
  /** settings.kafkaControllerVoters */
  expectedVoters: number;
  brokerIds: number[];
  idempotency: {
    sent: number;
    resent: number;
    rows: number;
    distinct: number;
    duplicatesSkippedDelta: number | null;
  };
  trials: FaultRun[];
  isrAfter: number[];
}

/** Figures of one job's scrapes over a window, from Prometheus' raw samples (every scrape). */
export interface ScrapeFigure {
  job: string;
  /** active targets of the job */
  targets: number;
  /** successful scrapes (`up` 1 at the same timestamp): the percentiles are over these */
  samples: number;
  /** failed scrapes (`up` 0), not in the percentiles */
  failed: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** the smallest scrape timeout among the job's targets */
  timeoutMs: number | null;
}

/** Scrape figures over the whole drill run (fault drills included): reported, not asserted. */
export interface ScrapeWindowFigures {
  /** the window queried: ISO times, and its length (the run's, capped) */
  from: string;
  to: string;
  windowS: number;
  /** true when the run was longer than the cap and only its last part is covered */
  capped: boolean;
  scrape: ScrapeFigure[];
}

export interface ObservabilityResult {
  targets: TargetHealth[];
  scrape: ScrapeFigure[];
  /** the window of the scrape figures: the steady write load of scenario 5 */
  windowS: number;
  /** the steady write load that ran during the window (absent in reports of older runs) */
  load?: LoadSummary;
  /** max of node_load1 over the window, per node (an LXC container reports the host's load) */
  load1Max: Record<string, number | null>;
}

export interface PgFailoverFacts {
  writeRefused: boolean;
  writeError: string;
  readServed: boolean;
  readFromStandby: boolean;
  /** number of writable PostgreSQL nodes seen at each probe (split brain when > 1) */
  writablePrimaries: number[];
  writesResumed: boolean;
  standbyStreamingAfter: boolean;
  digestsEqualAfter: boolean;
}

export interface FailoverResult {
  web: FaultRun | null;
  webBothServingAfter: boolean | null;
  pg: FaultRun | null;
  pgFacts: PgFailoverFacts | null;
  kafka: FaultRun | null;
  kafkaIsrAfter: number[] | null;
}

/** Kafka and PostgreSQL state after a hard fault healed. */
export interface AfterHeal {
  standbyStreaming: boolean;
  /** primary and standby rows equal (count + md5) once the load had drained */
  replicaIdentical: boolean;
  replicationDetail: string;
  /** every partition's ISR = its replicas */
  fullIsr: boolean;
  isrDetail: string;
  expectedVoters: number[];
  missingVoters: number[];
}

/** Scenario 8: one SIGKILL or link-down fault under the write load. */
export interface HardFaultResult {
  id: string;
  kind: "sigkill" | "link-down";
  layer: string;
  node: string;
  unit: string;
  /** null when the fault step threw (see error) */
  run: FaultRun | null;
  error: string | null;
  /** SIGKILL: s from the kill until systemd had the unit active with a new main PID by itself */
  selfRestartS: number | null;
  /** SIGKILL: the drill started the unit itself (it did not come back within the bound) */
  startedByDrill: boolean;
  /** link down: s from the link going down until it was up again */
  linkRestoredS: number | null;
  /** link down: the drill had to set the link up itself */
  linkUpByDrill: boolean;
  /** s from the heal until the layer served again; null: not within the bound */
  servingAfterHealS: number | null;
  servingBoundS: number;
  servingProbe: string;
  /** PG primary faults: writable PostgreSQL nodes seen at each probe */
  writablePrimaries: number[];
  after: AfterHeal | null;
}

export interface HardFaultsResult {
  linkDownS: number;
  faults: HardFaultResult[];
  /** wall time of the whole family */
  durationS: number;
}

/** One probe of a layer, repeated about once a second while a host was down. */
export interface LayerServing {
  /** what was probed, e.g. `LB GET /`, `webserver1 /readyz`, `HAProxy rw: writable primary` */
  probe: string;
  ok: number;
  total: number;
}

/** Scenario 9: every container of one Proxmox host stopped at once under the write load. */
export interface HostLossResult {
  host: string;
  nodes: string[];
  /** node:layer of each lost container */
  layers: string[];
  /** the single points the loss takes (lb, pg-primary, haproxy): writes refused by design */
  outages: string[];
  absorbed: boolean;
  consumerPause: boolean;
  run: FaultRun | null;
  error: string | null;
  duringLoss: LayerServing[];
  /** writable PostgreSQL nodes at each probe during and after the loss */
  writablePrimaries: number[];
  /** s from the restart until every lost layer served again and the LB answered */
  servingAgainS: number | null;
  servingBoundS: number;
  /** probes still failing when the bound ran out (empty when all served) */
  notServing: string[];
  after: AfterHeal | null;
  /**
   * pgFailover auto: the direct-commit probe through HAProxy across the loss (scenario 14's), from
   * an app node off the lost host; which node was primary, and whether the loss took it.
   */
  pg?: {
    primaryBefore: string;
    primaryLost: boolean;
    synchronous: boolean;
    writesBackS: number | null;
    commits: { attempts: number; ok: number };
    committedLost: number;
  };
}

export interface HostLossesResult {
  /** false with a single host: nothing is drilled */
  drilled: boolean;
  note: string | null;
  hosts: string[];
  downS: number;
  losses: HostLossResult[];
  durationS: number;
}

export interface DrillResults {
  target: string;
  runId: string;
  startedAt: string;
  finishedAt: string;
  parameters: Record<string, string | number>;
  lbSplit?: LbSplitResult;
  webWrite?: WebWriteResult;
  replication?: ReplicationResult;
  kafka?: KafkaResult;
  observability?: ObservabilityResult;
  failover?: FailoverResult;
  alerting?: AlertingResult;
  hardFaults?: HardFaultsResult;
  hostLoss?: HostLossesResult;
  lbPair?: LbPairResult;
  rolling?: RollingResult;
  restore?: RestoreResult;
  /** scenario 13 */
  security?: SecurityResult;
  /** scenario 14 */
  pgFailover?: PgFailoverResult;
  /** scrape figures from the run's start to its end (when scenario 5 was requested) */
  scrapeWholeRun?: ScrapeWindowFigures;
  /** scenarios that threw: scenario -> error text */
  errors: Record<number, string>;
}

/** Scenario 7: alerts raised by stopped nodes, in seconds since the stop. */
export interface AlertingResult {
  stopped: string[];
  /** when the nodes were started again (null: the start did not happen) */
  restoredAtS: number | null;
  polls: number;
  fireBoundS: number;
  resolveBoundS: number;
  milestones: AlertMilestones[];
  /** firing alerts that were not expected (e.g. a consumer-lag alert), informational */
  unexpected: string[];
}

/** Scenario 14: one fault of the PostgreSQL primary (pgFailover auto) under the write load. */
export interface PgFailoverTrial {
  id: string;
  kind: string;
  trial: number;
  /** the primary found when the trial began (null: none settled) */
  primaryBefore: string | null;
  /** the only writable node at the end */
  primaryAfter?: string;
  /** s from the fault until a direct commit through HAProxy succeeded after the last failed one */
  writesBackS?: number | null;
  longestCommitGapS?: number;
  commits?: { attempts: number; ok: number; failedButStored: number };
  /** commits that returned success but whose row is not on the primary after the trial */
  committedLost?: number;
  committedLostSample?: string[];
  commitErrors?: string[];
  /** polls in which both nodes were writable, and the longest such stretch */
  twoWriterPolls?: number;
  twoWriterLongestMs?: number;
  writerPolls?: number;
  /** s from the heal until one primary with a streaming replica again (null: not within the bound) */
  rejoinedS?: number | null;
  after?: Pick<AfterHeal, "standbyStreaming" | "replicaIdentical" | "replicationDetail">;
  run?: FaultRun;
  error: string | null;
}

export interface PgFailoverResult {
  drilled: boolean;
  note?: string;
  synchronous: boolean;
  writeResumeBoundMs?: number;
  trials: PgFailoverTrial[];
  durationS: number;
}

/** Scenario 10: one fault of the VIP holder of the LB pair under the write load. */
export interface LbPairTrial {
  id: string;
  kind: string;
  trial: number;
  /** the node holding the VIP when the fault began (null: no single holder) */
  holder: string | null;
  newHolder?: string | null;
  /** s from the fault until another node held the VIP on an up link (null: never) */
  vipMovedS?: number | null;
  /** s from the fault until the host's neighbour entry named another node (sandbox only) */
  hostSwitchedS?: number | null;
  hostViewed?: boolean;
  /** longest time two nodes held the VIP at once after the faulted node came back, in ms */
  dualHolderAfterHealMs?: number;
  holdersAtEnd?: string[];
  samples?: number;
  run?: FaultRun;
  error: string | null;
}

export interface LbPairResult {
  drilled: boolean;
  note?: string;
  vip?: string;
  nodes?: string[];
  advertIntervalMs: number;
  trials: LbPairTrial[];
  durationS: number;
}

/** Scenario 11: one day-2 change through the sandbox's `up` under the write load. */
export interface RollingTrial {
  id: string;
  label: string;
  args: string[];
  /** the layer whose nodes the change restarts, one at a time */
  restarts: "app" | "kafka" | "pg";
  /** PostgreSQL: the node that was the replica when the change began (it must go first) */
  firstExpected?: string;
  upExit?: number;
  /** the end of `up`'s output when it failed */
  upTail?: string;
  upTookS?: number;
  /** how long the write load ran on after `up` began, s */
  loadAfterStartS?: number;
  /** each node of the layer: its main PID changed during the change */
  restarted?: Array<{ node: string; restarted: boolean }>;
  /** polls in which more than one node of the layer was out at once */
  pollsWithSeveralOut?: number;
  longestAllOutMs?: number;
  /** nodes of the layer in the order they were first seen out */
  outOrder?: string[];
  polls?: number;
  run?: FaultRun;
  error: string | null;
}

/** Scenario 12: one restore from the backup repository into a scratch instance. */
export interface RestoreTrial {
  /** "latest" (all archived WAL) or "point in time" */
  kind: "latest" | "time";
  target?: string;
  /** restore command until the scratch instance accepted a write, s */
  rtoS?: number;
  /** rows of the source the restore should hold, and what it holds */
  rows?: { source: number; restored: number; missing: number; foreign: number };
  /** latest: how far the newest restored row lags the newest source row, s */
  rpoS?: number;
  error: string | null;
}

export interface RestoreResult {
  drilled: boolean;
  note?: string;
  repoNode: string;
  archiveTimeoutS: number;
  backupOk?: boolean;
  backupTookS?: number;
  backupError?: string;
  /** the freshness series in Prometheus after the backup (age in s), or why not */
  backupMetricAgeS?: number | null;
  /** the write load around the backup: acked vs stored */
  acked?: number;
  ackedStored?: number;
  failed?: number;
  trials: RestoreTrial[];
  durationS: number;
}

export interface RollingResult {
  drilled: boolean;
  note?: string;
  trials: RollingTrial[];
  durationS: number;
}

/**
 * Pure renderers for the Node.js app node: the env file read by pve-ha-app.service and the unit.
 * The variable names are the app's contract (docs/DESIGN.md "App contract").
 */
import { renderRestartLines, renderStartLimitLines } from "./restartPolicy";

export const APP_ENV_FILE = "/etc/pve-ha-app/app.env";
export const APP_DIR = "/opt/pve-ha-app";
export const APP_NODE_BIN = "/opt/node/bin/node";
export const APP_PORT = 3000;

/**
 * The app's readiness as a deploy waits for it (app/src/http/server.ts `/readyz`): 200 with its
 * dependencies and its consumer ok. An app node's update is done when this holds; the next node's
 * update waits for it.
 */
export const APP_READY = {
  path: "/readyz",
  needles: ['"database":"ok"', '"kafka":"ok"', '"consumer":"ok"'],
  timeoutSeconds: 120,
} as const;

export interface AppEnvVars {
  NODE_NAME: string;
  PG_PASSWORD: string;
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: string;
  PORT?: number;
  HOST?: string;
  PG_HOST?: string;
  PG_PORT?: number;
  PG_DATABASE?: string;
  PG_USER?: string;
  PG_POOL_MAX?: number;
  KAFKA_TOPIC?: string;
  KAFKA_GROUP_ID?: string;
  KAFKA_CLIENT_ID?: string;
  KAFKA_SESSION_TIMEOUT_MS?: number;
  KAFKA_HEARTBEAT_INTERVAL_MS?: number;
  /** How long a POST waits for the Kafka ack before a 503; the LB's read timeout must outlast it. */
  KAFKA_PUBLISH_DEADLINE_MS?: number;
  /** TCP connect timeout of the Kafka clients. */
  KAFKA_CONNECT_TIMEOUT_MS?: number;
  /** How long a Kafka request may go unanswered before the app retries against other brokers. */
  KAFKA_REQUEST_TIMEOUT_MS?: number;
  /** How long a publish waits for a new leader while the leader's connection dropped (kafkaLeaderWaitMs). */
  KAFKA_LEADER_WAIT_MS?: number;
  LOG_LEVEL?: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
  MAX_BODY_BYTES?: number;
}

const REQUIRED: (keyof AppEnvVars)[] = ["NODE_NAME", "PG_PASSWORD", "KAFKA_BROKERS"];
const ORDER: (keyof AppEnvVars)[] = [
  "NODE_NAME",
  "HOST",
  "PORT",
  "PG_HOST",
  "PG_PORT",
  "PG_DATABASE",
  "PG_USER",
  "PG_PASSWORD",
  "PG_POOL_MAX",
  "KAFKA_BROKERS",
  "KAFKA_TOPIC",
  "KAFKA_GROUP_ID",
  "KAFKA_CLIENT_ID",
  "KAFKA_SESSION_TIMEOUT_MS",
  "KAFKA_HEARTBEAT_INTERVAL_MS",
  "KAFKA_PUBLISH_DEADLINE_MS",
  "KAFKA_CONNECT_TIMEOUT_MS",
  "KAFKA_REQUEST_TIMEOUT_MS",
  "KAFKA_LEADER_WAIT_MS",
  "LOG_LEVEL",
  "MAX_BODY_BYTES",
];

function fail(message: string): never {
  throw new Error(`app env: ${message}`);
}

/** Double-quoted systemd EnvironmentFile value: only `\` and `"` need escaping. */
function quoteEnvValue(name: string, value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) fail(`${name} contains a control character or newline`);
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The env file `/etc/pve-ha-app/app.env` (mode 0640: it holds PG_PASSWORD). */
export function renderAppEnv(vars: AppEnvVars): string {
  for (const name of REQUIRED) {
    const value = vars[name];
    if (value === undefined || String(value).trim() === "") fail(`${name} is required`);
  }
  for (const name of Object.keys(vars)) {
    if (!ORDER.includes(name as keyof AppEnvVars)) fail(`unknown variable ${name}`);
  }
  const numeric: (keyof AppEnvVars)[] = [
    "PORT",
    "PG_PORT",
    "PG_POOL_MAX",
    "KAFKA_SESSION_TIMEOUT_MS",
    "KAFKA_HEARTBEAT_INTERVAL_MS",
    "KAFKA_PUBLISH_DEADLINE_MS",
    "KAFKA_CONNECT_TIMEOUT_MS",
    "KAFKA_REQUEST_TIMEOUT_MS",
    "KAFKA_LEADER_WAIT_MS",
    "MAX_BODY_BYTES",
  ];
  for (const name of numeric) {
    const value = vars[name];
    if (value !== undefined && (!Number.isInteger(value) || (value as number) <= 0)) {
      fail(`${name} must be a positive integer (got ${String(value)})`);
    }
  }
  const lines = ["# pve-ha-app environment (rendered; edits are overwritten on deploy)"];
  for (const name of ORDER) {
    const value = vars[name];
    if (value !== undefined) lines.push(`${name}=${quoteEnvValue(name, String(value))}`);
  }
  return lines.join("\n") + "\n";
}

export interface AppUnitOptions {
  nodeBin?: string;
  appDir?: string;
  envFile?: string;
  user?: string;
  /** Units the app should start after on the same node (none by default). */
  after?: string[];
}

/** systemd unit `pve-ha-app.service`. */
export function renderAppUnit(opts: AppUnitOptions = {}): string {
  const user = opts.user ?? "pve-ha-app";
  const appDir = opts.appDir ?? APP_DIR;
  for (const [name, value] of [
    ["nodeBin", opts.nodeBin ?? APP_NODE_BIN],
    ["appDir", appDir],
    ["envFile", opts.envFile ?? APP_ENV_FILE],
  ]) {
    if (!/^\/[A-Za-z0-9._/-]+$/.test(value))
      fail(`${name} must be an absolute path (got "${value}")`);
  }
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) fail(`user is not a valid user name (got "${user}")`);
  const after = ["network-online.target", ...(opts.after ?? [])].join(" ");
  return `[Unit]
Description=pve-ha-app (web form, Kafka producer and idempotent consumer)
Wants=network-online.target
After=${after}
${renderStartLimitLines()}

[Service]
Type=simple
User=${user}
Group=${user}
EnvironmentFile=${opts.envFile ?? APP_ENV_FILE}
Environment=NODE_ENV=production
WorkingDirectory=${appDir}
ExecStart=${opts.nodeBin ?? APP_NODE_BIN} ${appDir}/dist/server.js
${renderRestartLines()}
# SIGTERM: stop accepting, drain requests, commit offsets, leave the consumer group.
KillSignal=SIGTERM
TimeoutStopSec=30
NoNewPrivileges=yes
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}

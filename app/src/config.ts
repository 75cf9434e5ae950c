/** Environment -> validated AppConfig. Every problem is reported at once, naming the variable. */

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

export interface AppConfig {
  port: number;
  host: string;
  nodeName: string;
  pg: {
    host: string;
    port: number;
    database: string;
    user: string;
    password: string;
    poolMax: number;
    /**
     * How long the consumer waits, after a batch committed on the primary, for a replica to have
     * flushed the commit's WAL before it commits the Kafka offsets; 0 = no wait. A replica that is
     * connected but does not get there in time fails the batch (it is retried). With no replica
     * connected the batch proceeds at once.
     */
    replicaFlushWaitMs: number;
    /** Interval between two looks at pg_stat_replication during that wait. */
    replicaFlushPollMs: number;
  };
  kafka: {
    brokers: string[];
    topic: string;
    groupId: string;
    clientId: string;
    sessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    /** How long one POST may wait for the Kafka ack (retrying) before a 503. */
    publishDeadlineMs: number;
    /**
     * TCP connect timeout to a broker. A stopped broker on the LAN does not refuse, it is
     * silent: the client's 5 s default stalls every metadata or coordinator lookup that tries it.
     */
    connectTimeoutMs: number;
    /**
     * How long a request to a broker may go unanswered. A broker that stops without closing its
     * connections (power loss, container stop) answers nothing: the client waits this long before
     * it asks another broker for the new leader.
     */
    requestTimeoutMs: number;
    /**
     * How long a publish keeps asking for a new partition leader while the current one is a broker
     * whose connection dropped, before it sends to that broker anyway. The stack derives it from
     * the time the controller needs to fence a dead broker (quorum fetch timeout + election +
     * broker session); a shorter value sends into a dead leader and waits a whole request out.
     */
    leaderWaitMs: number;
  };
  logLevel: LogLevel;
  maxBodyBytes: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace"];
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const HOST_PORT_PATTERN = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  }

  string(name: string, fallback?: string, pattern?: RegExp): string {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) {
      this.problems.push(`${name} is required`);
      return "";
    }
    if (pattern && !pattern.test(value)) {
      this.problems.push(`${name} has an invalid value (got "${value}")`);
    }
    return value;
  }

  /** Like string() but the value is a secret: never echoed in messages. */
  secret(name: string): string {
    const value = this.env[name];
    if (value === undefined || value === "") {
      this.problems.push(`${name} is required`);
      return "";
    }
    return value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  list(name: string, itemPattern: RegExp): string[] {
    const raw = this.raw(name);
    if (raw === undefined) {
      this.problems.push(`${name} is required`);
      return [];
    }
    const items = raw.split(",").map((s) => s.trim());
    for (const item of items) {
      if (!itemPattern.test(item)) {
        this.problems.push(`${name} has an invalid entry (got "${item}")`);
      }
    }
    return items;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(", ")} (got "${raw}")`);
      return fallback;
    }
    return raw as T;
  }
}

export function loadConfig(env: Env): AppConfig {
  const r = new Reader(env);
  const nodeName = r.string("NODE_NAME", undefined, NAME_PATTERN);
  const config: AppConfig = {
    port: r.int("PORT", 3000, 1, 65535),
    host: r.string("HOST", "0.0.0.0", /^[0-9A-Za-z.:-]+$/),
    nodeName,
    pg: {
      host: r.string("PG_HOST", "127.0.0.1", /^[0-9A-Za-z.:-]+$/),
      port: r.int("PG_PORT", 5432, 1, 65535),
      database: r.string("PG_DATABASE", "app", NAME_PATTERN),
      user: r.string("PG_USER", "app", NAME_PATTERN),
      password: r.secret("PG_PASSWORD"),
      poolMax: r.int("PG_POOL_MAX", 10, 1, 200),
      replicaFlushWaitMs: r.int("PG_REPLICA_FLUSH_WAIT_MS", 5000, 0, 60000),
      replicaFlushPollMs: r.int("PG_REPLICA_FLUSH_POLL_MS", 2, 1, 1000),
    },
    kafka: {
      brokers: r.list("KAFKA_BROKERS", HOST_PORT_PATTERN),
      topic: r.string("KAFKA_TOPIC", "messages", /^[A-Za-z0-9._-]{1,249}$/),
      groupId: r.string("KAFKA_GROUP_ID", "pve-ha-app", NAME_PATTERN),
      clientId: env.KAFKA_CLIENT_ID?.trim()
        ? r.string("KAFKA_CLIENT_ID", undefined, NAME_PATTERN)
        : nodeName,
      sessionTimeoutMs: r.int("KAFKA_SESSION_TIMEOUT_MS", 6000, 1000, 300000),
      heartbeatIntervalMs: r.int("KAFKA_HEARTBEAT_INTERVAL_MS", 1000, 100, 60000),
      publishDeadlineMs: r.int("KAFKA_PUBLISH_DEADLINE_MS", 15000, 1000, 120000),
      connectTimeoutMs: r.int("KAFKA_CONNECT_TIMEOUT_MS", 1000, 100, 30000),
      requestTimeoutMs: r.int("KAFKA_REQUEST_TIMEOUT_MS", 2000, 500, 60000),
      leaderWaitMs: r.int("KAFKA_LEADER_WAIT_MS", 8000, 0, 120000),
    },
    logLevel: r.oneOf("LOG_LEVEL", "info", LOG_LEVELS),
    maxBodyBytes: r.int("MAX_BODY_BYTES", 16384, 256, 1048576),
  };
  if (config.kafka.heartbeatIntervalMs * 3 > config.kafka.sessionTimeoutMs) {
    r.problems.push(
      `KAFKA_HEARTBEAT_INTERVAL_MS must be at most a third of KAFKA_SESSION_TIMEOUT_MS (got ${config.kafka.heartbeatIntervalMs} and ${config.kafka.sessionTimeoutMs})`,
    );
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

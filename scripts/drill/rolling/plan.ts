/**
 * Scenario 11, day-2 changes through the sandbox's `up` under the write load (issue 15): which
 * changes, and what the readiness polls of the app nodes say about how they rolled. Pure.
 */
import { longestStretchMs } from "../stretch";

export interface RollingChange {
  /** file-name friendly */
  id: string;
  /** what the report calls it */
  label: string;
  /** `npm run sandbox -- up` arguments of the change (none: back to the stack's own) */
  args: string[];
  /** the layer whose nodes the change restarts, one at a time (PostgreSQL: the replica first) */
  restarts: "app" | "kafka" | "pg";
}

/** The other log level of a pair that both keep request logging off (info <-> warn). */
export function otherLogLevel(current: string): string {
  return current === "warn" ? "info" : "warn";
}

export interface RollingInputs {
  logLevel: string;
  /** a copy of the app bundle with one file more */
  artifactFile: string;
  /** the brokers' group.min.session.timeout.ms now */
  groupMinSessionTimeoutMs: number;
  /** PostgreSQL's shared_buffers now, MB (a setting that needs a restart) */
  sharedBuffersMb: number;
}

/**
 * The changes, in order. Each `up` carries only its own change, so the next one also undoes the
 * previous: an app setting; a new app artifact (and the setting back); the artifact back; a
 * broker setting; the broker setting back; a PostgreSQL setting that needs a restart; it back.
 */
export function rollingChanges(i: RollingInputs): RollingChange[] {
  const level = otherLogLevel(i.logLevel);
  const groupMin = i.groupMinSessionTimeoutMs - 1;
  const buffers = i.sharedBuffersMb - 16;
  return [
    {
      id: "app-setting",
      label: `appLogLevel ${i.logLevel} → ${level}`,
      args: ["--set", `appLogLevel=${level}`],
      restarts: "app",
    },
    {
      id: "app-artifact",
      label: `a new app artifact (appLogLevel back to ${i.logLevel})`,
      args: ["--artifact", `app=${i.artifactFile}`],
      restarts: "app",
    },
    { id: "app-artifact-back", label: "the app artifact back", args: [], restarts: "app" },
    {
      id: "kafka-setting",
      label: `kafkaGroupMinSessionTimeoutMs ${i.groupMinSessionTimeoutMs} → ${groupMin}`,
      args: ["--set", `kafkaGroupMinSessionTimeoutMs=${groupMin}`],
      restarts: "kafka",
    },
    {
      id: "kafka-setting-back",
      label: `kafkaGroupMinSessionTimeoutMs back to ${i.groupMinSessionTimeoutMs}`,
      args: [],
      restarts: "kafka",
    },
    {
      id: "pg-setting",
      label: `pgSharedBuffersMb ${i.sharedBuffersMb} → ${buffers} (restart: replica, then primary)`,
      args: ["--set", `pgSharedBuffersMb=${buffers}`],
      restarts: "pg",
    },
    {
      id: "pg-setting-back",
      label: `pgSharedBuffersMb back to ${i.sharedBuffersMb}`,
      args: [],
      restarts: "pg",
    },
  ];
}

/** One poll of every node of the layer (`ready[i]` for node i: serving), ms since the epoch. */
export interface ReadinessSample {
  at: number;
  ready: boolean[];
}

/** Longest stretch (ms) in which no node was ready: from the first such poll to the next ready one. */
export function longestAllOutMs(samples: readonly ReadinessSample[]): number {
  return longestStretchMs(samples, (s) => s.ready.length > 0 && s.ready.every((r) => !r));
}

/** Polls in which more than one node was not ready at the same time. */
export function pollsWithSeveralOut(samples: readonly ReadinessSample[]): number {
  return samples.filter((s) => s.ready.filter((r) => !r).length > 1).length;
}

/** The order in which the nodes were first seen not ready (indexes), e.g. [0, 1]. */
export function outOrder(samples: readonly ReadinessSample[]): number[] {
  const order: number[] = [];
  for (const s of samples) {
    s.ready.forEach((r, i) => {
      if (!r && !order.includes(i)) order.push(i);
    });
  }
  return order;
}

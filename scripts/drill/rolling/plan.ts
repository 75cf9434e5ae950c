/**
 * Scenario 11, day-2 changes through the sandbox's `up` under the write load (issue 15): which
 * changes, and what the readiness polls of the app nodes say about how they rolled. Pure.
 */

export interface RollingChange {
  /** file-name friendly */
  id: string;
  /** what the report calls it */
  label: string;
  /** `npm run sandbox -- up` arguments of the change (none: back to the stack's own) */
  args: string[];
  /** the change restarts every app node (a setting or artifact of the app) */
  restartsApps: boolean;
}

/** The other log level of a pair that both keep request logging off (info <-> warn). */
export function otherLogLevel(current: string): string {
  return current === "warn" ? "info" : "warn";
}

/**
 * The changes, in order, each undone by the next: an app setting and back, a new app artifact
 * and back. `artifactFile` is a copy of the app bundle with one file more.
 */
export function rollingChanges(currentLogLevel: string, artifactFile: string): RollingChange[] {
  const level = otherLogLevel(currentLogLevel);
  return [
    {
      id: "app-setting",
      label: `appLogLevel ${currentLogLevel} → ${level}`,
      args: ["--set", `appLogLevel=${level}`],
      restartsApps: true,
    },
    {
      id: "app-setting-back",
      label: `appLogLevel back to ${currentLogLevel}`,
      args: [],
      restartsApps: true,
    },
    {
      id: "app-artifact",
      label: "a new app artifact",
      args: ["--artifact", `app=${artifactFile}`],
      restartsApps: true,
    },
    { id: "app-artifact-back", label: "the app artifact back", args: [], restartsApps: true },
  ];
}

/** One poll of every app node's readiness (`ready[i]` for node i), ms since the epoch. */
export interface ReadinessSample {
  at: number;
  ready: boolean[];
}

/** Longest stretch (ms) in which no app node was ready: from the first such poll to the next ready one. */
export function longestAllOutMs(samples: readonly ReadinessSample[]): number {
  let longest = 0;
  let since: number | null = null;
  for (const s of samples) {
    const allOut = s.ready.length > 0 && s.ready.every((r) => !r);
    if (allOut) since ??= s.at;
    else if (since !== null) {
      longest = Math.max(longest, s.at - since);
      since = null;
    }
  }
  const last = samples[samples.length - 1];
  if (since !== null && last) longest = Math.max(longest, last.at - since);
  return longest;
}

/** Polls in which more than one app node was not ready at the same time. */
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

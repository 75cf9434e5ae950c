/** Pure parsers of the tools' output that the status checks read. */

/** Voter ids from `MetadataQuorumCommand describe --status` (old `[1,2,3]` and new JSON forms). */
export function parseQuorumVoters(text: string): {
  leaderId: number | undefined;
  voters: number[];
} {
  const leader = /^LeaderId:\s+(-?\d+)/m.exec(text);
  const line = /^CurrentVoters:\s+(.*)$/m.exec(text)?.[1] ?? "";
  const ids = line.includes('"id"')
    ? [...line.matchAll(/"id":\s*(\d+)/g)].map((m) => Number(m[1]))
    : [...line.matchAll(/\d+/g)].map((m) => Number(m[0]));
  return { leaderId: leader ? Number(leader[1]) : undefined, voters: ids.sort((a, b) => a - b) };
}

export interface TopicDescription {
  readonly partitionCount: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number | undefined;
  readonly partitions: { partition: number; replicas: number[]; isr: number[] }[];
}

function ids(text: string | undefined): number[] {
  return (text ?? "")
    .split(",")
    .filter((s) => s.trim() !== "")
    .map(Number);
}

/** `TopicCommand --describe` output for one topic. */
export function parseTopicDescription(text: string): TopicDescription {
  const head = /PartitionCount:\s*(\d+)\s+ReplicationFactor:\s*(\d+)/.exec(text);
  if (!head) throw new Error(`not a topic description:\n${text.slice(0, 300)}`);
  const minIsr = /min\.insync\.replicas=(\d+)/.exec(text);
  const partitions = [
    ...text.matchAll(
      /Partition:\s*(\d+)\s+Leader:\s*(-?\d+)\s+Replicas:\s*([\d,]*)\s+Isr:\s*([\d,]*)/g,
    ),
  ].map((m) => ({ partition: Number(m[1]), replicas: ids(m[3]), isr: ids(m[4]) }));
  return {
    partitionCount: Number(head[1]),
    replicationFactor: Number(head[2]),
    minInsyncReplicas: minIsr ? Number(minIsr[1]) : undefined,
    partitions,
  };
}

/** Rows of `psql -tA -F '|'` output. */
export function parseRows(text: string): string[][] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((l) => l.split("|"));
}

export interface PromTarget {
  readonly job: string;
  readonly instance: string;
  readonly health: string;
  readonly lastError: string;
}

/** Active targets of Prometheus' /api/v1/targets. */
export function parsePromTargets(json: string): PromTarget[] {
  const body = JSON.parse(json) as {
    status: string;
    data?: {
      activeTargets?: { labels?: Record<string, string>; health: string; lastError?: string }[];
    };
  };
  if (body.status !== "success") throw new Error(`Prometheus answered status ${body.status}`);
  return (body.data?.activeTargets ?? []).map((t) => ({
    job: t.labels?.job ?? "",
    instance: t.labels?.instance ?? "",
    health: t.health,
    lastError: t.lastError ?? "",
  }));
}

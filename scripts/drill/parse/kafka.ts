export interface PartitionInfo {
  partition: number;
  leader: number | null;
  replicas: number[];
  isr: number[];
}

export interface TopicInfo {
  topic: string;
  partitionCount: number;
  replicationFactor: number;
  configs: string;
  partitions: PartitionInfo[];
}

function field(line: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${name}:\\s*([^\\t]*?)(?=\\t|\\s+[A-Z][A-Za-z]*:|$)`).exec(line);
  return m ? m[1].trim() : undefined;
}

function idList(raw: string | undefined): number[] {
  if (!raw) return [];
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/** Parses `kafka-topics --describe --topic <t>` output. */
export function parseTopicDescribe(text: string, topic: string): TopicInfo {
  const lines = text.split("\n").filter((l) => l.includes(`Topic: ${topic}`));
  const head = lines.find((l) => l.includes("PartitionCount:"));
  if (!head) {
    throw new Error(
      `topic ${topic} not found in kafka-topics output: ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  const partitions = lines
    .filter((l) => /\bPartition:\s*\d+/.test(l))
    .map((l) => {
      const leader = field(l, "Leader");
      return {
        partition: Number(field(l, "Partition")),
        leader:
          leader === undefined || leader === "none" || Number(leader) < 0 ? null : Number(leader),
        replicas: idList(field(l, "Replicas")),
        isr: idList(field(l, "Isr")),
      };
    });
  return {
    topic,
    partitionCount: Number(field(head, "PartitionCount")),
    replicationFactor: Number(field(head, "ReplicationFactor")),
    configs: field(head, "Configs") ?? "",
    partitions,
  };
}

export interface QuorumStatus {
  leaderId: number;
  voters: number[];
  observers: number[];
  maxFollowerLag: number;
}

function ids(raw: string | undefined): number[] {
  if (!raw) return [];
  const json = [...raw.matchAll(/"id":\s*(\d+)/g)].map((m) => Number(m[1]));
  if (json.length > 0) return json;
  return idList(raw.replace(/[[\]]/g, ""));
}

/** Parses `kafka-metadata-quorum describe --status` (Kafka 3.x id lists and 4.x voter objects). */
export function parseQuorumStatus(text: string): QuorumStatus {
  const value = (name: string): string | undefined => {
    const m = new RegExp(`^${name}:\\s*(.*)$`, "m").exec(text);
    return m ? m[1].trim() : undefined;
  };
  const leader = value("LeaderId");
  if (leader === undefined) {
    throw new Error(
      `no LeaderId in kafka-metadata-quorum output: ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  return {
    leaderId: Number(leader),
    voters: ids(value("CurrentVoters")),
    observers: ids(value("CurrentObservers")),
    maxFollowerLag: Number(value("MaxFollowerLag") ?? NaN),
  };
}

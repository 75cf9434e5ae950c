import { kafkaBrokers, kafkaNodes, type StackNode } from "../outputs";
import {
  parseQuorumStatus,
  parseTopicDescribe,
  type QuorumStatus,
  type TopicInfo,
} from "../parse/kafka";
import { parseQuorumReplication, type VoterReplication } from "../hardFaults/shell";
import type { DrillContext } from "./context";
import { pctExec } from "./pct";

/** A Kafka node to run the CLI wrappers on, skipping the ones a drill has stopped. */
function cliNode(ctx: DrillContext, stopped: ReadonlySet<number>): StackNode {
  const node = kafkaNodes(ctx.outputs).find((n) => !stopped.has(n.vmid));
  if (!node) throw new Error("no running Kafka node to run the Kafka CLI on");
  return node;
}

function bootstrap(ctx: DrillContext, stopped: ReadonlySet<number>): string {
  // the bootstrap entries of the brokers still running (all of them when none is)
  const all = ctx.outputs.kafkaBootstrapServers.split(",").map((e) => e.trim());
  const down = new Set(
    kafkaBrokers(ctx.outputs)
      .filter((b) => stopped.has(b.vmid))
      .map((b) => b.ip),
  );
  const live = all.filter((e) => !down.has(e.split(":")[0]));
  return (live.length ? live : all).join(",");
}

export async function describeTopic(
  ctx: DrillContext,
  stopped: ReadonlySet<number> = new Set(),
): Promise<TopicInfo> {
  const out = await pctExec(
    ctx.pct,
    cliNode(ctx, stopped).vmid,
    [
      "kafka-topics",
      "--bootstrap-server",
      bootstrap(ctx, stopped),
      "--describe",
      "--topic",
      ctx.outputs.kafkaTopic,
    ],
    { timeoutMs: 60_000 },
  );
  return parseTopicDescribe(out, ctx.outputs.kafkaTopic);
}

/** `kafka-metadata-quorum describe <what>` on a running Kafka node. */
function describeQuorum(
  ctx: DrillContext,
  stopped: ReadonlySet<number>,
  what: "--status" | "--replication",
): Promise<string> {
  return pctExec(
    ctx.pct,
    cliNode(ctx, stopped).vmid,
    ["kafka-metadata-quorum", "--bootstrap-server", bootstrap(ctx, stopped), "describe", what],
    { timeoutMs: 60_000 },
  );
}

export async function quorumStatus(
  ctx: DrillContext,
  stopped: ReadonlySet<number> = new Set(),
): Promise<QuorumStatus> {
  return parseQuorumStatus(await describeQuorum(ctx, stopped, "--status"));
}

/** `kafka-metadata-quorum describe --replication`: every voter's lag and last catch-up. */
export async function quorumReplication(
  ctx: DrillContext,
  stopped: ReadonlySet<number> = new Set(),
): Promise<VoterReplication[]> {
  return parseQuorumReplication(await describeQuorum(ctx, stopped, "--replication"));
}

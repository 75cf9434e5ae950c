import { kafkaBrokers, kafkaNodes, type StackNode } from "../outputs";
import {
  parseQuorumStatus,
  parseTopicDescribe,
  type QuorumStatus,
  type TopicInfo,
} from "../parse/kafka";
import type { DrillContext } from "./context";
import { pctExec } from "./pct";

/** A Kafka node to run the CLI wrappers on, skipping the ones a drill has stopped. */
function cliNode(ctx: DrillContext, stopped: ReadonlySet<number>): StackNode {
  const node = kafkaNodes(ctx.outputs).find((n) => !stopped.has(n.vmid));
  if (!node) throw new Error("no running Kafka node to run the Kafka CLI on");
  return node;
}

function bootstrap(ctx: DrillContext, stopped: ReadonlySet<number>): string {
  const live = kafkaBrokers(ctx.outputs).filter((b) => !stopped.has(b.vmid));
  return (
    live.length ? live.map((b) => `${b.ip}:9092`) : ctx.outputs.kafkaBootstrapServers.split(",")
  ).join(",");
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

export async function quorumStatus(
  ctx: DrillContext,
  stopped: ReadonlySet<number> = new Set(),
): Promise<QuorumStatus> {
  const out = await pctExec(
    ctx.pct,
    cliNode(ctx, stopped).vmid,
    [
      "kafka-metadata-quorum",
      "--bootstrap-server",
      bootstrap(ctx, stopped),
      "describe",
      "--status",
    ],
    { timeoutMs: 60_000 },
  );
  return parseQuorumStatus(out);
}

import { layerOf, type FaultLayer } from "../hardFaults/plan";
import { nodesByHost, type StackNode, type StackOutputs } from "../outputs";

/** What a host's loss takes that the stack has only one of (no automatic takeover yet). */
export type Outage = "lb" | "pg-primary" | "haproxy";

export interface HostLossSpec {
  host: string;
  /** the containers of the host, in VMID order */
  nodes: StackNode[];
  layers: Array<{ node: StackNode; layer: FaultLayer }>;
  /** single points the loss takes: writes (everything, for the LB) refused while it lasts */
  outages: Outage[];
  /** none of them: the write load must go on within the broker/app bounds */
  absorbed: boolean;
  /** a Kafka broker is lost and writes go on: the consumer-pause bound applies */
  consumerPause: boolean;
}

const OUTAGE_TEXT: Readonly<Record<Outage, string>> = {
  lb: "every LB: every request fails",
  "pg-primary": "the PG primary (no automatic promotion): DB writes refused",
  haproxy: "the single HAProxy: DB writes and reads refused",
};

export const SINGLE_HOST_NOTE = "one host: a host loss is a total outage, not drilled";

/** The host-loss family from the outputs: one loss per Proxmox host; null with a single host. */
export function hostLossPlans(outputs: StackOutputs): HostLossSpec[] | null {
  const hosts = nodesByHost(outputs);
  if (hosts.length < 2) return null;
  return hosts
    .filter((h) => h.nodes.length > 0)
    .map(({ host, nodes }) => {
      const sorted = [...nodes].sort((a, b) => a.vmid - b.vmid);
      const layers = sorted.map((node) => ({ node, layer: layerOf(outputs, node) }));
      const has = (l: FaultLayer): boolean => layers.some((x) => x.layer === l);
      // An LB pair (keepalived VIP) survives one LB's loss; the host must hold all of them.
      const lbs = outputs.nodes.filter((n) => layerOf(outputs, n) === "lb");
      const takesEveryLb = lbs.every((n) => sorted.some((x) => x.vmid === n.vmid));
      // pgFailover auto: Patroni promotes the other node, so the primary is no single point.
      const auto = outputs.pgFailover.mode === "auto";
      const outages = (["lb", "pg-primary", "haproxy"] as const).filter((l) =>
        l === "lb" ? has(l) && takesEveryLb : l === "pg-primary" ? !auto && has(l) : has(l),
      );
      return {
        host,
        nodes: sorted,
        layers,
        outages,
        absorbed: outages.length === 0,
        consumerPause: outages.length === 0 && has("kafka-broker"),
      };
    });
}

/** The report's sentence on what a loss refuses by design, or null when writes must go on. */
export function outageText(outages: readonly Outage[]): string | null {
  if (outages.length === 0) return null;
  return `writes refused during the loss by design: it takes ${outages.map((o) => OUTAGE_TEXT[o]).join("; ")}`;
}

/** A PostgreSQL node off the lost host: the client of the HAProxy probes (psql is there). */
export function probeClient(spec: HostLossSpec, pgNodes: readonly StackNode[]): StackNode | null {
  return pgNodes.find((n) => !spec.nodes.some((x) => x.vmid === n.vmid)) ?? null;
}

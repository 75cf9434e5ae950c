import type { NodePlan } from "../../config/types";
import type { ObservedNode, ObservedService } from "./targets";

/** What monitoring needs to know about each planned node. */
export function observedNodes(plans: NodePlan[]): ObservedNode[] {
  return plans.map((plan) => ({
    name: plan.name,
    role: plan.role,
    vmid: plan.vmid,
    ip: plan.ip,
    services: servicesOf(plan),
  }));
}

function servicesOf(plan: NodePlan): ObservedService[] {
  switch (plan.role) {
    case "nginx":
    case "app":
    case "haproxy":
    case "monitor":
      return [plan.role];
    case "pg-primary":
    case "pg-standby":
      return ["postgres"];
    case "kafka":
      return (plan.kafkaRoles ?? []).map((r) =>
        r === "broker" ? "kafka-broker" : "kafka-controller",
      );
  }
}

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

/** What of the stack's shape decides which alert rules and dashboard panels exist. */
export interface ObservedLayout {
  /** More than one LB node (role "nginx"): keepalived moves a virtual IP between them. */
  lbPair: boolean;
  /** pgBackupMaxAgeHours when pgBackRest backups run (their alerts), else absent. */
  backupMaxAgeHours?: number;
  /** pgFailover auto: Patroni runs the PostgreSQL nodes (its alerts), else absent. */
  patroni?: boolean;
}

/** One LB node and no keepalived: what a caller that passes no layout gets. */
export const SINGLE_LB_LAYOUT: ObservedLayout = { lbPair: false };

export function observedLayout(
  plans: NodePlan[],
  backupMaxAgeHours?: number,
  patroni = false,
): ObservedLayout {
  return {
    lbPair: plans.filter((p) => p.role === "nginx").length > 1,
    ...(backupMaxAgeHours === undefined ? {} : { backupMaxAgeHours }),
    ...(patroni ? { patroni } : {}),
  };
}

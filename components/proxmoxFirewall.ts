import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { ExposureRule } from "./config/exposure";
import type { NodePlan } from "./config/types";

type ProxmoxRule = proxmoxve.types.input.firewall.RulesLegacyRule;

/** One inbound ACCEPT rule per (rule, source) of a container, in the order given. */
export function proxmoxFirewallRules(rules: readonly ExposureRule[]): ProxmoxRule[] {
  return rules.flatMap((rule) =>
    rule.sources.map((source) => ({
      type: "in",
      action: "ACCEPT",
      proto: rule.proto,
      ...(rule.port !== undefined ? { dport: String(rule.port) } : {}),
      source,
      comment: `pve-ha-stack: ${rule.purpose}`,
    })),
  );
}

/**
 * The Proxmox firewall of one container (its network interface needs `firewall: true`): the
 * rules first, then the options that turn it on with input DROP, so the container is never
 * closed without its rules. Both go to the host that holds the container.
 */
export function containerFirewall(
  name: string,
  plan: NodePlan,
  rules: readonly ExposureRule[],
  container: pulumi.Resource,
  parent: pulumi.Resource,
): { rules: proxmoxve.firewall.RulesLegacy; options: proxmoxve.firewall.OptionsLegacy } {
  const target = { nodeName: plan.proxmoxNode, containerId: plan.vmid };
  const ruleSet = new proxmoxve.firewall.RulesLegacy(
    `${name}-firewall-rules`,
    { ...target, rules: proxmoxFirewallRules(rules) },
    { parent, dependsOn: [container] },
  );
  const options = new proxmoxve.firewall.OptionsLegacy(
    `${name}-firewall-options`,
    {
      ...target,
      enabled: true,
      inputPolicy: "DROP",
      outputPolicy: "ACCEPT",
      // ipfilter would drop what the LB pair sends from its virtual IP.
      ipfilter: false,
      dhcp: false,
    },
    { parent, dependsOn: [container, ruleSet] },
  );
  return { rules: ruleSet, options };
}

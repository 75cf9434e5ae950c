import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { exposureOptionsOf, exposureRules } from "./config/exposure";
import {
  NFT_CONF_PATH,
  NFT_CONNTRACK_SYSCTL_PATH,
  NFT_TABLE,
  firewallPeers,
  renderNodeFirewall,
} from "./render/nftables";
import { FIREWALL_PACKAGES } from "./render/packages";
import { AppNodes } from "./appNodes";
import { artifactSource } from "./artifacts";
import { stackEndpoints, type StackEndpoints } from "./config/endpoints";
import { lbNodes, nodesByRole, planNodes, singleNodes } from "./config/plan";
import { leaderMoveBoundMs } from "./config/kafkaTimings";
import { PORTS } from "./config/ports";
import type { NodePlan, StackConfig } from "./config/types";
import { KafkaCluster } from "./kafkaCluster";
import { nodeFactory } from "./lxcNodes";
import { NginxBalancer } from "./nginxBalancer";
import { ObservabilityStack } from "./observabilityStack";
import { PgBackups } from "./pgBackups";
import { PgReplicatedPair } from "./pgReplicatedPair";
import { archiveCommand } from "./render/pgbackrest";
import { backupRepoPlan } from "./config/backup";
import { vzdumpJob } from "./proxmoxBackup";
import type { ProxmoxLxcNode } from "./proxmoxLxcNode";

export interface DeployedStack {
  plans: NodePlan[];
  endpoints: StackEndpoints;
  nodes: ProxmoxLxcNode[];
  lb: NginxBalancer;
  apps: AppNodes;
  database: PgReplicatedPair;
  kafka: KafkaCluster;
  observability: ObservabilityStack;
  firewalls: command.remote.Command[];
}

export const STACK_TYPE = "pve-ha:stack:PveHaStack";

export interface PveHaStackArgs {
  config: StackConfig;
}

/**
 * The whole stack as one component that parents every resource. Ordering follows real
 * dependencies: the standby after the primary, the topic after every Kafka node, the apps after
 * the database and the topic, the LBs after the apps (keepalived after nginx), Prometheus after the exporters. Its direct
 * children carry an alias from the top level, where stacks before this component had them.
 */
export class PveHaStack extends pulumi.ComponentResource implements DeployedStack {
  readonly plans: NodePlan[];
  readonly endpoints: StackEndpoints;
  readonly nodes: ProxmoxLxcNode[];
  readonly lb: NginxBalancer;
  readonly apps: AppNodes;
  readonly database: PgReplicatedPair;
  readonly kafka: KafkaCluster;
  readonly observability: ObservabilityStack;
  /** nftables-configure of every node (containerFirewall); empty when off. */
  readonly firewalls: command.remote.Command[];

  constructor(name: string, args: PveHaStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super(STACK_TYPE, name, {}, opts);
    const cfg = args.config;
    const plans = planNodes(cfg);
    this.plans = plans;
    const single = singleNodes(plans);
    const child: pulumi.ComponentResourceOptions = {
      parent: this,
      aliases: [{ parent: pulumi.rootStackResource }],
    };
    const createNode = nodeFactory(cfg, plans, this);
    const appPlans = nodesByRole(plans, "app");

    const database = new PgReplicatedPair(
      "database",
      {
        primary: single.pgPrimary,
        standby: single.pgStandby,
        proxy: single.pgProxy,
        appClients: appPlans,
        pg: cfg.pg,
        plans,
        archive: cfg.backup.enabled
          ? { command: archiveCommand(), timeoutSeconds: cfg.backup.archiveTimeoutSeconds }
          : undefined,
        ...(cfg.pg.failover.mode === "auto"
          ? { patroniArtifact: artifactSource(cfg, "patroni") }
          : {}),
        createNode,
      },
      child,
    );

    const kafka = new KafkaCluster(
      "kafka",
      {
        plans: nodesByRole(plans, "kafka"),
        kafka: cfg.kafka,
        kafkaArtifact: artifactSource(cfg, "kafka"),
        jmxAgentArtifact: artifactSource(cfg, "jmxAgent"),
        createNode,
      },
      child,
    );

    const apps = new AppNodes(
      "app",
      {
        plans: appPlans,
        app: cfg.app,
        pgHost: single.pgProxy.ip,
        pgPort: PORTS.haproxyReadWrite,
        pgDatabase: cfg.pg.database,
        pgUser: cfg.pg.appUser,
        pgPassword: database.appPassword,
        kafkaBrokers: kafka.bootstrapServers,
        kafkaTopic: kafka.topic,
        kafkaLeaderWaitMs: leaderMoveBoundMs(cfg.kafka),
        nodeArtifact: artifactSource(cfg, "node"),
        appArtifact: artifactSource(cfg, "app"),
        lbFailTimeoutSeconds: cfg.lb.failTimeoutSeconds,
        startAfter: [database.primaryReady, database.proxyReady, kafka.topicReady],
        createNode,
      },
      child,
    );

    const lb = new NginxBalancer(
      "lb",
      {
        plans: lbNodes(plans),
        upstreams: appPlans,
        appPort: cfg.app.port,
        lb: cfg.lb,
        frontDoor: cfg.frontDoor,
        appPublishDeadlineMs: cfg.app.kafkaPublishDeadlineMs,
        startAfter: apps.started,
        createNode,
      },
      child,
    );

    // The monitor node belongs to no other component: the stack parents it directly.
    const monitor = createNode(single.monitor, this);
    const nodes = [
      ...lb.nodes,
      ...apps.nodes,
      database.primary,
      database.standby,
      database.proxy,
      ...kafka.nodes,
      monitor,
    ];
    const backups = cfg.backup.enabled
      ? new PgBackups(
          "backups",
          {
            backup: cfg.backup,
            repo: nodeNamed(nodes, backupRepoPlan(cfg.backup, plans).name),
            pgNodes: [
              { node: database.primary, ready: database.primaryReady },
              { node: database.standby, ready: database.standbyReady },
            ],
            settingsApplied: database.settingsApplied,
          },
          child,
        )
      : undefined;
    const ready: Record<string, pulumi.Resource[]> = {
      ...lb.ready,
      [database.primary.plan.name]: [database.primaryReady],
      [database.standby.plan.name]: [database.standbyReady],
      [database.proxy.plan.name]: [database.proxyReady],
      [monitor.plan.name]: [monitor.ready],
    };
    if (backups)
      ready[cfg.backup.repoNode] = [...(ready[cfg.backup.repoNode] ?? []), backups.ready];
    apps.nodes.forEach((node, i) => (ready[node.plan.name] = [apps.started[i]]));
    for (const node of kafka.nodes) ready[node.plan.name] = [kafka.topicReady];

    vzdumpJob(cfg.proxmox.vzdump, nodes, this);

    const observability = new ObservabilityStack(
      "observability",
      { nodes, config: cfg, ready },
      child,
    );

    this.firewalls = cfg.firewall.enabled
      ? containerFirewalls(cfg, plans, nodes, [observability, ...(backups ? [backups] : [])], ready)
      : [];

    this.endpoints = stackEndpoints(cfg, plans);
    this.nodes = nodes;
    this.lb = lb;
    this.apps = apps;
    this.database = database;
    this.kafka = kafka;
    this.observability = observability;
    this.registerOutputs({
      lbUrl: this.endpoints.lbUrl,
      lbVirtualIp: this.endpoints.lbVirtualIp,
      nodes: this.endpoints.nodes,
    });
  }
}

/**
 * containerFirewall: each node's nftables-configure, rendered from the exposure rules with
 * operatorCidr as the operators. It runs last on its node: after what the node serves is
 * configured (`ready`) and after every observability and backup step, which reach across nodes.
 */
function containerFirewalls(
  cfg: StackConfig,
  plans: readonly NodePlan[],
  nodes: readonly ProxmoxLxcNode[],
  after: pulumi.Resource[],
  ready: Record<string, pulumi.Resource[]>,
): command.remote.Command[] {
  const rules = exposureRules(plans, exposureOptionsOf(cfg, [cfg.firewall.operatorCidr]));
  return nodes.map((node) =>
    node.runPayload(
      "nftables-configure",
      {
        payload: "nftables-configure",
        vars: {
          PACKAGES: FIREWALL_PACKAGES.join(" "),
          NFT_RULESET: renderNodeFirewall(
            node.plan.name,
            rules,
            firewallPeers(plans, node.plan.name),
          ),
          CONF_PATH: NFT_CONF_PATH,
          SYSCTL_PATH: NFT_CONNTRACK_SYSCTL_PATH,
          NFT_TABLE,
        },
      },
      { dependsOn: [...(ready[node.plan.name] ?? []), ...after] },
    ),
  );
}

function nodeNamed(nodes: readonly ProxmoxLxcNode[], name: string): ProxmoxLxcNode {
  const node = nodes.find((n) => n.plan.name === name);
  if (node === undefined) throw new Error(`stack: no node named "${name}"`);
  return node;
}

/** The stack of a configuration: one PveHaStack named after the project. */
export function deployStack(cfg: StackConfig): DeployedStack {
  return new PveHaStack("pve-ha-stack", { config: cfg });
}

/** Everything index.ts exports; the drills and the sandbox read these names. */
export function stackOutputs(stack: DeployedStack) {
  return {
    ...stack.endpoints,
    // The monitor's URLs as the observability component serves them (same keys, same order).
    prometheusUrl: stack.observability.prometheusUrl,
    alertmanagerUrl: stack.observability.alertmanagerUrl,
    grafanaUrl: stack.observability.grafanaUrl,
    kafkaClusterId: stack.kafka.clusterId,
    /** Secret: the Grafana admin login. */
    grafanaAdminPassword: pulumi.secret(stack.observability.grafanaAdminPassword),
    /** Secret: the LB's /admin password (user settings.lbAdminUser); "" without lbAdminAuth. */
    adminPassword: pulumi.secret(stack.lb.adminPassword),
  };
}

export type StackOutputs = ReturnType<typeof stackOutputs>;

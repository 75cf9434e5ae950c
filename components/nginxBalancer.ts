import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PORTS } from "./config/ports";
import type { LbSettings, NodePlan } from "./config/types";
import { installRolePackages, type NodeFactory } from "./lxcNodes";
import {
  KEEPALIVED_CONF_PATH,
  KEEPALIVED_STATE_DROP_IN_PATH,
  NGINX_CHECK_SCRIPT_PATH,
  VRRP_NOTIFY_SCRIPT_PATH,
  VRRP_PRIORITIES,
  renderKeepalivedConf,
  renderKeepalivedStateDropIn,
  renderNginxCheckScript,
  renderVrrpNotifyScript,
} from "./render/keepalived";
import { VRRP_TEXTFILE_PATH } from "./render/observability/vrrpTextfile";
import { NGINX_HEALTH_PATH, nginxReadTimeoutSeconds, renderNginxConf } from "./render/nginx";
import { KEEPALIVED_PACKAGES } from "./render/packages";
import type { ProxmoxLxcNode } from "./proxmoxLxcNode";

export interface NginxBalancerArgs {
  /** The LB nodes (lbNodes): one, or the two of a keepalived pair. */
  plans: NodePlan[];
  upstreams: NodePlan[];
  appPort: number;
  lb: LbSettings;
  /** The app's Kafka publish deadline (appKafkaPublishDeadlineMs): the read timeout outlasts it. */
  appPublishDeadlineMs: number;
  /** The LBs start serving only after these (the app nodes). */
  startAfter: pulumi.Resource[];
  createNode: NodeFactory;
}

const HEALTH_URL = `http://127.0.0.1:${PORTS.nginxStubStatus}${NGINX_HEALTH_PATH}`;

/**
 * The Nginx load balancer in front of the app nodes: one node, or two with the same nginx.conf
 * behind a keepalived virtual IP (configured after nginx on each; the first LB's keepalived
 * starts first, so it holds the virtual IP after the first deploy).
 */
export class NginxBalancer extends pulumi.ComponentResource {
  readonly nodes: ProxmoxLxcNode[];
  /** The nginx role's Debian packages on each node. */
  readonly installs: command.remote.Command[];
  /** nginx-configure of each node, in node order. */
  readonly configures: command.remote.Command[];
  /** keepalived-configure of each node; empty with one LB. */
  readonly keepalived: command.remote.Command[];
  /** What must have run before a node counts as serving, by node name. */
  readonly ready: Record<string, command.remote.Command[]>;
  readonly url: string;

  constructor(name: string, args: NginxBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-ha:lb:NginxBalancer", name, {}, opts);
    const pair = args.plans.length === 2;
    if (args.plans.length !== args.lb.replicas) {
      throw new Error(
        `lb: lbReplicas is ${args.lb.replicas} but ${args.plans.length} LB nodes are planned`,
      );
    }
    const nginxConf = renderNginxConf({
      upstreams: args.upstreams.map((u) => ({ name: u.name, host: u.ip, port: args.appPort })),
      algorithm: args.lb.algorithm,
      maxFails: args.lb.maxFails,
      failTimeoutSeconds: args.lb.failTimeoutSeconds,
      connectTimeoutMs: args.lb.connectTimeoutMs,
      readTimeoutSeconds: nginxReadTimeoutSeconds(args.appPublishDeadlineMs),
      listenPort: PORTS.http,
      stubStatusPort: PORTS.nginxStubStatus,
    });
    this.nodes = args.plans.map((plan) => args.createNode(plan, this));
    this.installs = this.nodes.map((node) => installRolePackages(node));
    this.configures = this.nodes.map((node, i) =>
      node.runPayload(
        "nginx-configure",
        { payload: "nginx-configure", vars: { NGINX_CONF: nginxConf } },
        { dependsOn: [this.installs[i], ...args.startAfter] },
      ),
    );
    this.keepalived = [];
    if (pair) {
      this.nodes.forEach((node, i) => {
        const peer = this.nodes[1 - i].plan;
        this.keepalived.push(
          node.runPayload(
            "keepalived-configure",
            { payload: "keepalived-configure", vars: keepalivedVars(node.plan, peer, i, args.lb) },
            { dependsOn: [this.configures[i], ...this.keepalived] },
          ),
        );
      });
    }
    this.ready = Object.fromEntries(
      this.nodes.map((node, i) => [
        node.plan.name,
        [this.configures[i], ...(pair ? [this.keepalived[i]] : [])],
      ]),
    );
    this.url = `http://${pair ? args.lb.virtualIp : args.plans[0].ip}/`;
    this.registerOutputs({ url: this.url });
  }
}

/** The keepalived-configure payload's variables for the LB `self` (index i of the pair). */
function keepalivedVars(self: NodePlan, peer: NodePlan, i: number, lb: LbSettings) {
  return {
    PACKAGES: KEEPALIVED_PACKAGES.join(" "),
    KEEPALIVED_CONF: renderKeepalivedConf({
      self: { name: self.name, ip: self.ip },
      peer: { name: peer.name, ip: peer.ip },
      priority: VRRP_PRIORITIES[i],
      virtualIp: lb.virtualIp,
      prefix: self.cidrPrefix,
      routerId: lb.vrrpRouterId,
      advertIntervalMs: lb.vrrpAdvertIntervalMs,
    }),
    CONF_PATH: KEEPALIVED_CONF_PATH,
    CHECK_SCRIPT: renderNginxCheckScript(HEALTH_URL),
    CHECK_SCRIPT_PATH: NGINX_CHECK_SCRIPT_PATH,
    NOTIFY_SCRIPT: renderVrrpNotifyScript(),
    NOTIFY_SCRIPT_PATH: VRRP_NOTIFY_SCRIPT_PATH,
    STATE_DROP_IN: renderKeepalivedStateDropIn(),
    STATE_DROP_IN_PATH: KEEPALIVED_STATE_DROP_IN_PATH,
    TEXTFILE_PATH: VRRP_TEXTFILE_PATH,
  };
}

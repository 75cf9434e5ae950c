import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PORTS } from "./config/ports";
import type { LbSettings, NodePlan } from "./config/types";
import { installRolePackages, type NodeFactory } from "./lxcNodes";
import { nginxReadTimeoutSeconds, renderNginxConf } from "./render/nginx";
import type { ProxmoxLxcNode } from "./proxmoxLxcNode";

export interface NginxBalancerArgs {
  plan: NodePlan;
  upstreams: NodePlan[];
  appPort: number;
  lb: LbSettings;
  /** The app's Kafka publish deadline (appKafkaPublishDeadlineMs): the read timeout outlasts it. */
  appPublishDeadlineMs: number;
  /** The LB starts serving only after these (the app nodes). */
  startAfter: pulumi.Resource[];
  createNode: NodeFactory;
}

/** The Nginx load balancer in front of the app nodes. */
export class NginxBalancer extends pulumi.ComponentResource {
  readonly node: ProxmoxLxcNode;
  readonly install: command.remote.Command;
  readonly configure: command.remote.Command;
  readonly url: string;

  constructor(name: string, args: NginxBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-ha:lb:NginxBalancer", name, {}, opts);
    this.node = args.createNode(args.plan, this);
    this.install = installRolePackages(this.node);
    this.configure = this.node.runPayload(
      "nginx-configure",
      {
        payload: "nginx-configure",
        vars: {
          NGINX_CONF: renderNginxConf({
            upstreams: args.upstreams.map((u) => ({
              name: u.name,
              host: u.ip,
              port: args.appPort,
            })),
            algorithm: args.lb.algorithm,
            maxFails: args.lb.maxFails,
            failTimeoutSeconds: args.lb.failTimeoutSeconds,
            connectTimeoutMs: args.lb.connectTimeoutMs,
            readTimeoutSeconds: nginxReadTimeoutSeconds(args.appPublishDeadlineMs),
            listenPort: PORTS.http,
            stubStatusPort: PORTS.nginxStubStatus,
          }),
        },
      },
      { dependsOn: [this.install, ...args.startAfter] },
    );
    this.url = `http://${args.plan.ip}/`;
    this.registerOutputs({ url: this.url });
  }
}

import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DEFAULT_MAX_BODY_BYTES } from "./config/frontDoor";
import { PORTS } from "./config/ports";
import type { FrontDoorSettings, LbSettings, NodePlan } from "./config/types";
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
import {
  NGINX_HEALTH_PATH,
  nginxReadTimeoutSeconds,
  renderNginxConf,
  type NginxConfOptions,
} from "./render/nginx";
import { LB_HTPASSWD_PATH, LB_TLS_CERT_PATH, LB_TLS_KEY_PATH } from "./render/nginxSecurity";
import { KEEPALIVED_PACKAGES } from "./render/packages";
import {
  UPSTREAM_WATCH_SCRIPT_PATH,
  UPSTREAM_WATCH_UNIT,
  UPSTREAM_WATCH_UNIT_PATH,
  renderUpstreamWatchScript,
  renderUpstreamWatchUnit,
} from "./render/upstreamWatch";
import type { ProxmoxLxcNode } from "./proxmoxLxcNode";

export interface NginxBalancerArgs {
  /** The LB nodes (lbNodes): one, or the two of a keepalived pair. */
  plans: NodePlan[];
  upstreams: NodePlan[];
  appPort: number;
  lb: LbSettings;
  /** TLS, /admin auth, POST limits; absent or all off: nginx.conf exactly as without them. */
  frontDoor?: FrontDoorSettings;
  /** The app's Kafka publish deadline (appKafkaPublishDeadlineMs): the read timeout outlasts it. */
  appPublishDeadlineMs: number;
  /** The LBs start serving only after these (the app nodes). */
  startAfter: pulumi.Resource[];
  createNode: NodeFactory;
}

const HEALTH_URL = `http://127.0.0.1:${PORTS.nginxStubStatus}${NGINX_HEALTH_PATH}`;

export { LB_HTPASSWD_PATH, LB_TLS_CERT_PATH, LB_TLS_KEY_PATH };

/** The renderer's front-door options of the settings; each off option stays absent. */
export function frontDoorConfOptions(
  fd: FrontDoorSettings | undefined,
): Pick<NginxConfOptions, "tls" | "adminAuth" | "limits"> {
  if (!fd) return {};
  const limited = fd.postRatePerSecond > 0 || fd.maxBodyBytes > 0;
  return {
    ...(fd.tls !== "off"
      ? {
          tls: {
            certPath: LB_TLS_CERT_PATH,
            keyPath: LB_TLS_KEY_PATH,
            redirectHttp: fd.redirectHttp,
          },
        }
      : {}),
    ...(fd.adminAuth ? { adminAuth: { htpasswdPath: LB_HTPASSWD_PATH } } : {}),
    ...(limited
      ? {
          limits: {
            postRatePerSecond: fd.postRatePerSecond,
            postBurst: fd.postBurst,
            maxBodyBytes: fd.maxBodyBytes || DEFAULT_MAX_BODY_BYTES,
          },
        }
      : {}),
  };
}

/** The front-door step is needed for TLS material or the htpasswd file. */
export function needsFrontDoorFiles(fd: FrontDoorSettings | undefined): boolean {
  return fd !== undefined && (fd.tls !== "off" || fd.adminAuth);
}

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
  /** upstream-watch-configure of each node (the active check); empty with lbProbeIntervalMs 0. */
  readonly upstreamWatch: command.remote.Command[];
  /** keepalived-configure of each node; empty with one LB. */
  readonly keepalived: command.remote.Command[];
  /** nginx-frontdoor of each node (TLS files, htpasswd); empty when neither is on. */
  readonly frontDoorFiles: command.remote.Command[];
  /** The /admin password (secret): generated or lbAdminPassword; "" without lbAdminAuth. */
  readonly adminPassword: pulumi.Output<string>;
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
    // The app nodes as nginx balances them and as the upstream watch probes them.
    const upstreams = args.upstreams.map((u) => ({ name: u.name, host: u.ip, port: args.appPort }));
    const nginxConf = renderNginxConf({
      upstreams,
      algorithm: args.lb.algorithm,
      maxFails: args.lb.maxFails,
      failTimeoutSeconds: args.lb.failTimeoutSeconds,
      connectTimeoutMs: args.lb.connectTimeoutMs,
      readTimeoutSeconds: nginxReadTimeoutSeconds(args.appPublishDeadlineMs),
      listenPort: PORTS.http,
      stubStatusPort: PORTS.nginxStubStatus,
      ...frontDoorConfOptions(args.frontDoor),
    });
    this.nodes = args.plans.map((plan) => args.createNode(plan, this));
    this.installs = this.nodes.map((node) => installRolePackages(node));
    const fd = args.frontDoor;
    this.adminPassword = pulumi.secret(
      !fd?.adminAuth
        ? pulumi.output("")
        : fd.adminPassword !== ""
          ? pulumi.output(fd.adminPassword)
          : new random.RandomPassword(
              `${name}-admin-password`,
              { length: 24, special: false },
              { parent: this },
            ).result,
    );
    this.frontDoorFiles =
      fd && needsFrontDoorFiles(fd)
        ? this.nodes.map((node, i) =>
            node.runPayload(
              "nginx-frontdoor",
              {
                payload: "nginx-frontdoor",
                vars: frontDoorVars(
                  node.plan,
                  fd,
                  pair ? args.lb.virtualIp : "",
                  this.adminPassword,
                ),
                secret: fd.tls === "provided" || fd.adminAuth,
              },
              { dependsOn: [this.installs[i]] },
            ),
          )
        : [];
    this.configures = this.nodes.map((node, i) =>
      node.runPayload(
        "nginx-configure",
        { payload: "nginx-configure", vars: { NGINX_CONF: nginxConf } },
        {
          dependsOn: [
            this.installs[i],
            ...(this.frontDoorFiles[i] ? [this.frontDoorFiles[i]] : []),
            ...args.startAfter,
          ],
        },
      ),
    );
    const probe = args.lb.probe;
    this.upstreamWatch =
      probe.intervalMs === 0
        ? []
        : this.nodes.map((node, i) =>
            node.runPayload(
              "upstream-watch-configure",
              {
                payload: "upstream-watch-configure",
                vars: {
                  SCRIPT: renderUpstreamWatchScript({ upstreams, ...probe }),
                  SCRIPT_PATH: UPSTREAM_WATCH_SCRIPT_PATH,
                  UNIT: UPSTREAM_WATCH_UNIT,
                  UNIT_TEXT: renderUpstreamWatchUnit(),
                  UNIT_PATH: UPSTREAM_WATCH_UNIT_PATH,
                },
              },
              { dependsOn: [this.configures[i]] },
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
        [
          this.configures[i],
          ...(this.upstreamWatch[i] ? [this.upstreamWatch[i]] : []),
          ...(pair ? [this.keepalived[i]] : []),
        ],
      ]),
    );
    const scheme = fd && fd.tls !== "off" && fd.redirectHttp ? "https" : "http";
    this.url = `${scheme}://${pair ? args.lb.virtualIp : args.plans[0].ip}/`;
    this.registerOutputs({ url: this.url });
  }
}

/**
 * The nginx-frontdoor payload's variables for one LB: the secrets (provided key, admin password)
 * only when their option is on; the self-signed certificate names the LB and the virtual IP.
 */
function frontDoorVars(
  self: NodePlan,
  fd: FrontDoorSettings,
  virtualIp: string,
  adminPassword: pulumi.Output<string>,
): pulumi.Output<Record<string, string>> {
  const provided = fd.tls === "provided";
  const vars = (password: string): Record<string, string> => ({
    TLS_MODE: fd.tls,
    TLS_CERT: provided ? fd.tlsCertificate : "",
    TLS_KEY: provided ? fd.tlsPrivateKey : "",
    TLS_SAN_IPS: [virtualIp, self.ip].filter((ip) => ip !== "").join(" "),
    TLS_CN: virtualIp || self.ip,
    CERT_PATH: LB_TLS_CERT_PATH,
    KEY_PATH: LB_TLS_KEY_PATH,
    ADMIN_AUTH: String(fd.adminAuth),
    ADMIN_USER: fd.adminUser,
    ADMIN_PASSWORD: fd.adminAuth ? password : "",
    HTPASSWD_PATH: LB_HTPASSWD_PATH,
  });
  // Only a step that carries the password depends on it (a secret output makes the whole script
  // secret).
  return fd.adminAuth ? adminPassword.apply(vars) : pulumi.output(vars(""));
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

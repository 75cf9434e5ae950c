import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { artifactIdentity } from "./artifacts";
import type { AppSettings, ArtifactSource, NodePlan } from "./config/types";
import { installRolePackages, type NodeFactory } from "./lxcNodes";
import { APP_DIR, APP_READY, renderAppEnv, renderAppUnit } from "./render/app";
import type { ProxmoxLxcNode } from "./proxmoxLxcNode";

const NODE_TARBALL = "/var/lib/pve-ha/artifacts/node.tgz";
const APP_TARBALL = "/var/lib/pve-ha/artifacts/pve-ha-app.tgz";

export interface AppNodesArgs {
  plans: NodePlan[];
  app: AppSettings;
  /** PostgreSQL as the app reaches it: the HAProxy read-write endpoint. */
  pgHost: string;
  pgPort: number;
  pgDatabase: string;
  pgUser: string;
  pgPassword: pulumi.Output<string>;
  kafkaBrokers: string;
  kafkaTopic: string;
  /** How long a publish waits for a new partition leader (leaderMoveBoundMs of the cluster). */
  kafkaLeaderWaitMs: number;
  nodeArtifact: ArtifactSource;
  appArtifact: ArtifactSource;
  /**
   * How long the LB skips an app node after a failed try (lbFailTimeoutSeconds): a restarted node
   * waits that long (and 1 s more) after it is ready before the next node's update may begin.
   */
  lbFailTimeoutSeconds: number;
  /** The app starts only after these (database + roles, the Kafka topic). */
  startAfter: pulumi.Resource[];
  createNode: NodeFactory;
}

/**
 * The Node.js app nodes (webserver1..N): runtime, app bundle, env file, systemd unit. Updates roll:
 * each node's unpack and configure steps (which restart the app on a change) wait for the previous
 * node's configure step, which ends only when that node is ready again, so a `pulumi up` that
 * changes the app or its settings never restarts two app nodes at once.
 */
export class AppNodes extends pulumi.ComponentResource {
  readonly nodes: ProxmoxLxcNode[];
  readonly started: command.remote.Command[];

  constructor(name: string, args: AppNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-ha:app:AppNodes", name, {}, opts);
    const appIdentity = artifactIdentity(args.appArtifact);
    const nodeIdentity = artifactIdentity(args.nodeArtifact);
    const unit = renderAppUnit();
    this.started = [];
    let previous: command.remote.Command | undefined;
    this.nodes = args.plans.map((plan) => {
      const afterPrevious = previous ? [previous] : [];
      const node = args.createNode(plan, this);
      const install = installRolePackages(node);
      const runtime = node.runPayload(
        "node-runtime-unpack",
        {
          payload: "unpack-tarball",
          vars: {
            TARBALL: NODE_TARBALL,
            TARGET_DIR: "/opt/node",
            CHECK_PATH: "bin/node",
            RESTART_UNIT: "pve-ha-app.service",
            ARTIFACT_IDENTITY: nodeIdentity,
          },
        },
        {
          dependsOn: [
            node.pushArtifact("node-runtime", { artifact: args.nodeArtifact, dest: NODE_TARBALL }),
            ...afterPrevious,
          ],
        },
      );
      const bundle = node.runPayload(
        "app-unpack",
        {
          payload: "unpack-tarball",
          vars: {
            TARBALL: APP_TARBALL,
            TARGET_DIR: APP_DIR,
            CHECK_PATH: "dist/server.js",
            RESTART_UNIT: "pve-ha-app.service",
            ARTIFACT_IDENTITY: appIdentity,
          },
        },
        {
          dependsOn: [
            node.pushArtifact("app-bundle", { artifact: args.appArtifact, dest: APP_TARBALL }),
            ...afterPrevious,
          ],
        },
      );
      const env = args.pgPassword.apply((pgPassword) =>
        renderAppEnv({
          NODE_NAME: plan.name,
          HOST: "0.0.0.0",
          PORT: args.app.port,
          PG_HOST: args.pgHost,
          PG_PORT: args.pgPort,
          PG_DATABASE: args.pgDatabase,
          PG_USER: args.pgUser,
          PG_PASSWORD: pgPassword,
          PG_POOL_MAX: args.app.pgPoolMax,
          KAFKA_BROKERS: args.kafkaBrokers,
          KAFKA_TOPIC: args.kafkaTopic,
          KAFKA_CLIENT_ID: plan.name,
          KAFKA_SESSION_TIMEOUT_MS: args.app.kafkaSessionTimeoutMs,
          KAFKA_HEARTBEAT_INTERVAL_MS: args.app.kafkaHeartbeatIntervalMs,
          KAFKA_PUBLISH_DEADLINE_MS: args.app.kafkaPublishDeadlineMs,
          KAFKA_CONNECT_TIMEOUT_MS: args.app.kafkaConnectTimeoutMs,
          KAFKA_REQUEST_TIMEOUT_MS: args.app.kafkaRequestTimeoutMs,
          KAFKA_LEADER_WAIT_MS: args.kafkaLeaderWaitMs,
          LOG_LEVEL: args.app.logLevel,
        }),
      );
      const configure = node.runPayload(
        "app-configure",
        {
          payload: "app-configure",
          secret: true,
          vars: {
            APP_ENV: env,
            APP_UNIT: unit,
            APP_PORT: args.app.port,
            ARTIFACT_IDENTITY: `${nodeIdentity} ${appIdentity}`,
            READY_PATH: APP_READY.path,
            READY_NEEDLES: APP_READY.needles.join("\n"),
            READY_TIMEOUT_SECONDS: APP_READY.timeoutSeconds,
            LB_SETTLE_SECONDS: args.lbFailTimeoutSeconds + 1,
          },
        },
        { dependsOn: [install, runtime, bundle, ...args.startAfter, ...afterPrevious] },
      );
      this.started.push(configure);
      previous = configure;
      return node;
    });
    this.registerOutputs({});
  }
}

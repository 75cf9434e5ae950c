import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { artifactIdentity } from "./artifacts";
import type { AppSettings, ArtifactSource, NodePlan } from "./config/types";
import { installRolePackages, type NodeFactory } from "./lxcNodes";
import { APP_DIR, renderAppEnv, renderAppUnit } from "./render/app";
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
  nodeArtifact: ArtifactSource;
  appArtifact: ArtifactSource;
  /** The app starts only after these (database + roles, the Kafka topic). */
  startAfter: pulumi.Resource[];
  createNode: NodeFactory;
}

/** The Node.js app nodes (webserver1..N): runtime, app bundle, env file, systemd unit. */
export class AppNodes extends pulumi.ComponentResource {
  readonly nodes: ProxmoxLxcNode[];
  readonly started: command.remote.Command[];

  constructor(name: string, args: AppNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-ha:app:AppNodes", name, {}, opts);
    const appIdentity = artifactIdentity(args.appArtifact);
    const nodeIdentity = artifactIdentity(args.nodeArtifact);
    const unit = renderAppUnit();
    this.started = [];
    this.nodes = args.plans.map((plan) => {
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
          LOG_LEVEL: args.app.logLevel,
        }),
      );
      this.started.push(
        node.runPayload(
          "app-configure",
          {
            payload: "app-configure",
            secret: true,
            vars: {
              APP_ENV: env,
              APP_UNIT: unit,
              APP_PORT: args.app.port,
              ARTIFACT_IDENTITY: `${nodeIdentity} ${appIdentity}`,
            },
          },
          { dependsOn: [install, runtime, bundle, ...args.startAfter] },
        ),
      );
      return node;
    });
    this.registerOutputs({});
  }
}

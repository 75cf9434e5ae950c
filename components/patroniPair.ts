/**
 * pgFailover auto's steps on the PostgreSQL nodes and the witness (config/failoverPlan.ts):
 * etcd on the three members, then Patroni on both PostgreSQL nodes, then the app's database on
 * whichever node Patroni made the leader. PgReplicatedPair wires HAProxy after Patroni.
 *
 * Cold deploy: no node has a cluster (Debian creates none, see renderPatroniCreateClusterConf);
 * both Patroni start side by side, one wins the initialize key and runs initdb (checksums on),
 * the other clones it with pg_basebackup. The manual mode's pg-configure, pg-primary-setup,
 * pg-standby-setup and pg-settings-* do not exist here.
 */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { failoverPlan, PATRONI_SCOPE } from "./config/failoverPlan";
import { PORTS } from "./config/ports";
import type { NodePlan, PgSettings } from "./config/types";
import { installRolePackages, type NodeFactory } from "./lxcNodes";
import {
  ETCD_DATA_DIR,
  ETCD_LEADER_KEEPER_PATH,
  ETCD_LEADER_KEEPER_UNIT,
  etcdClientHosts,
  renderEtcdEnv,
  renderEtcdLeaderKeeperScript,
  renderEtcdLeaderKeeperUnit,
} from "./render/etcd";
import { ETCD_PACKAGES, PATRONI_PACKAGES } from "./render/packages";
import {
  PATRONI_BASE_CONF_NAME,
  PATRONI_CONFIG_PATH,
  PATRONI_DROP_IN_PATH,
  PATRONI_DYNAMIC_PATH,
  PATRONI_UNIT,
  renderPatroniBaseConf,
  renderPatroniConfig,
  renderPatroniCreateClusterConf,
  renderPatroniDropIn,
  renderPatroniDynamicConfig,
} from "./render/patroni";
import {
  PG_CONF_DIR,
  PG_DATA_DIR,
  localPsqlVars,
  renderPrimarySetupSql,
  type PgHbaOptions,
  type PostgresConfOptions,
} from "./render/postgres";
import type { ProxmoxLxcNode } from "./proxmoxLxcNode";
import { artifactIdentity } from "./artifacts";
import type { ArtifactSource } from "./config/types";
import {
  PATRONICTL_BIN,
  PATRONI_BIN,
  PATRONI_HOME,
  PATRONI_VERSION,
  PATRONI_WHEEL_PATH,
  renderPatroniWrapper,
} from "./render/patroniRelease";

/** Bounded waits of the steps, in seconds. */
export const PATRONI_STEP_TIMEOUTS = {
  /** etcd-configure: until this member is healthy (the other two start meanwhile). */
  etcdHealth: 300,
  /** patroni-configure: until GET /health (initdb, or the replica's base backup). */
  patroniStart: 600,
  /** patroni-configure: applying the dynamic configuration, until this node has taken it. */
  patroniDynamic: 120,
  /** pg-app-setup: until the leader applied the SQL, or it reached the replica. */
  appSetup: 300,
} as const;

export interface PatroniPairArgs {
  /** pg1 and pg2 (the plan's pg-primary and pg-standby: names only, Patroni picks the leader). */
  pgPlans: NodePlan[];
  /** The witness's node (pgproxy), created by the caller, with its install step. */
  witness: { node: ProxmoxLxcNode; install: command.remote.Command };
  plans: NodePlan[];
  pg: PgSettings;
  postgres: PostgresConfOptions;
  hba: PgHbaOptions;
  passwords: {
    superuser: pulumi.Output<string>;
    replication: pulumi.Output<string>;
    rewind: pulumi.Output<string>;
    /** The REST API's (restapi.authentication, PATRONI_REST_USER). */
    restApi: pulumi.Output<string>;
    app: pulumi.Output<string>;
  };
  /** The Patroni wheel (render/patroniRelease.ts) pushed into both PostgreSQL nodes. */
  patroniArtifact: ArtifactSource;
  createNode: NodeFactory;
  parent: pulumi.Resource;
}

export interface PatroniPairSteps {
  /** pg1, pg2 in plan order. */
  nodes: ProxmoxLxcNode[];
  /** etcd-configure of pg1, pg2 and the witness. */
  etcd: command.remote.Command[];
  /** patroni-configure of pg1, pg2. */
  patroni: command.remote.Command[];
  /** pg-app-setup of pg1, pg2 (secret): the app database exists on the leader once either ends. */
  appSetup: command.remote.Command[];
}

export function wirePatroniPair(a: PatroniPairArgs): PatroniPairSteps {
  const members = failoverPlan(a.plans).etcdMembers;
  const clusterToken = `pve-ha-etcd-${members[0].vmid}`;
  const nodes = a.pgPlans.map((plan) => a.createNode(plan, a.parent));
  const installs = nodes.map((node) =>
    installRolePackages(node, renderPatroniCreateClusterConf(), "auto"),
  );

  const etcdMembers = members.map((m) => ({ name: m.name, ip: m.ip }));
  const keeper = (node: ProxmoxLxcNode, witness: boolean) =>
    witness
      ? {
          KEEPER_SCRIPT: renderEtcdLeaderKeeperScript({
            self: { name: node.plan.name, ip: node.plan.ip },
            members: etcdMembers,
          }),
          KEEPER_UNIT: renderEtcdLeaderKeeperUnit(),
          KEEPER_UNIT_NAME: ETCD_LEADER_KEEPER_UNIT,
          KEEPER_PATH: ETCD_LEADER_KEEPER_PATH,
        }
      : { KEEPER_SCRIPT: "", KEEPER_UNIT: "", KEEPER_UNIT_NAME: "", KEEPER_PATH: "" };
  const etcdStep = (node: ProxmoxLxcNode, install: command.remote.Command, witness = false) =>
    node.runPayload(
      "etcd-configure",
      {
        payload: "etcd-configure",
        vars: {
          PACKAGES: ETCD_PACKAGES.join(" "),
          ETCD_ENV: renderEtcdEnv({
            self: { name: node.plan.name, ip: node.plan.ip },
            members: etcdMembers,
            clusterToken,
          }),
          DATA_DIR: ETCD_DATA_DIR,
          SELF_IP: node.plan.ip,
          CLIENT_PORT: PORTS.etcdClient,
          HEALTH_TIMEOUT_SECONDS: PATRONI_STEP_TIMEOUTS.etcdHealth,
          ...keeper(node, witness),
        },
      },
      { dependsOn: [install] },
    );
  const etcd = [
    ...nodes.map((node, i) => etcdStep(node, installs[i])),
    etcdStep(a.witness.node, a.witness.install, true),
  ];

  const etcdHosts = etcdClientHosts(etcdMembers);
  const dynamic = {
    timings: a.pg.failover.patroni,
    synchronous: a.pg.failover.synchronous,
    postgres: a.postgres,
  };
  // No secret in it; it is part of the step's (keyed) trigger, so a change re-runs the step.
  const dynamicConfig = renderPatroniDynamicConfig(dynamic);
  const wheelIdentity = artifactIdentity(a.patroniArtifact);
  const patroni = nodes.map((node, i) => {
    const pushWheel = node.pushArtifact(
      "patroni-wheel",
      { artifact: a.patroniArtifact, dest: PATRONI_WHEEL_PATH },
      { dependsOn: [installs[i]] },
    );
    const yml = pulumi
      .all([
        a.passwords.superuser,
        a.passwords.replication,
        a.passwords.rewind,
        a.passwords.restApi,
      ])
      .apply(([superuser, replication, rewind, restApi]) =>
        renderPatroniConfig({
          ...dynamic,
          scope: PATRONI_SCOPE,
          self: { name: node.plan.name, ip: node.plan.ip },
          etcdHosts,
          hba: a.hba,
          passwords: { superuser, replication, rewind, restApi },
        }),
      );
    return node.runPayload(
      "patroni-configure",
      {
        payload: "patroni-configure",
        secret: true,
        vars: {
          PACKAGES: PATRONI_PACKAGES.join(" "),
          PATRONI_YML: yml,
          DYNAMIC_CONFIG: dynamicConfig,
          DYNAMIC_PATH: PATRONI_DYNAMIC_PATH,
          DYNAMIC_TIMEOUT_SECONDS: PATRONI_STEP_TIMEOUTS.patroniDynamic,
          SCOPE: PATRONI_SCOPE,
          DROP_IN: renderPatroniDropIn(),
          BASE_CONF: renderPatroniBaseConf(),
          BASE_CONF_NAME: PATRONI_BASE_CONF_NAME,
          CONFIG_PATH: PATRONI_CONFIG_PATH,
          DROP_IN_PATH: PATRONI_DROP_IN_PATH,
          UNIT: PATRONI_UNIT,
          CONF_DIR: PG_CONF_DIR,
          DATA_DIR: PG_DATA_DIR,
          NODE_NAME: node.plan.name,
          SELF_IP: node.plan.ip,
          REST_PORT: PORTS.patroniRestApi,
          START_TIMEOUT_SECONDS: PATRONI_STEP_TIMEOUTS.patroniStart,
          WHEEL_PATH: PATRONI_WHEEL_PATH,
          WHEEL_IDENTITY: wheelIdentity,
          PATRONI_HOME,
          PATRONI_VERSION,
          PATRONI_BIN,
          PATRONICTL_BIN,
          WRAPPER_PATRONI: renderPatroniWrapper("patroni"),
          WRAPPER_PATRONICTL: renderPatroniWrapper("patronictl"),
          ETCD_HOST: node.plan.ip,
          ETCD_PORT: PORTS.etcdClient,
          ...localPsqlVars(PORTS.postgres),
        },
      },
      // Every member healthy first: a Patroni without etcd would not start its PostgreSQL.
      { dependsOn: [...etcd, pushWheel] },
    );
  });

  const setupSql = renderPrimarySetupSql({
    database: a.pg.database,
    appUser: a.pg.appUser,
    replicationUser: a.pg.replicationUser,
  });
  const patroniNodes = nodes.map((n) => `${n.plan.name}=${n.plan.ip}`).join(" ");
  const appSetup = nodes.map((node) =>
    node.runPayload(
      "pg-app-setup",
      {
        payload: "pg-app-setup",
        secret: true,
        vars: {
          SETUP_SQL: setupSql,
          SUPERUSER_PASSWORD: a.passwords.superuser,
          REPLICATION_PASSWORD: a.passwords.replication,
          APP_PASSWORD: a.passwords.app,
          NODE_NAME: node.plan.name,
          PATRONI_NODES: patroniNodes,
          REST_PORT: PORTS.patroniRestApi,
          DATABASE: a.pg.database,
          APP_USER: a.pg.appUser,
          TIMEOUT_SECONDS: PATRONI_STEP_TIMEOUTS.appSetup,
          ...localPsqlVars(PORTS.postgres),
        },
      },
      { dependsOn: patroni },
    ),
  );
  return { nodes, etcd, patroni, appSetup };
}

import type { ArtifactSource } from "./config/types";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PORTS } from "./config/ports";
import type { PgFailoverMode } from "./config/pgFailover";
import type { NodePlan, PgSettings } from "./config/types";
import { installRolePackages, type NodeFactory } from "./lxcNodes";
import { wirePatroniPair } from "./patroniPair";
import { renderHaproxyCfg } from "./render/haproxy";
import { sha256Hex } from "./render/hash";
import {
  PG_CONF_D_FILE,
  PG_SETTINGS_APPLY,
  localPsqlVars,
  renderCreateClusterConf,
  renderPgHba,
  renderPostgresConf,
  renderPrimarySetupSql,
  renderRoleCheckScript,
  type PgHbaOptions,
  type PostgresConfOptions,
} from "./render/postgres";
import { renderRoleCheckService, renderRoleCheckSocket } from "./render/systemd";
import type { ProxmoxLxcNode, RunPayloadArgs } from "./proxmoxLxcNode";

export interface PgReplicatedPairArgs {
  primary: NodePlan;
  standby: NodePlan;
  proxy: NodePlan;
  /** App nodes: allowed to use the app database (besides the proxy). */
  appClients: NodePlan[];
  pg: PgSettings;
  /** Every node of the stack (pgFailover auto: the etcd members are found in it). */
  plans: NodePlan[];
  /** WAL archiving to the backup repository, when backups are on. */
  archive?: PostgresConfOptions["archive"];
  /** pgFailover auto: where the Patroni wheel comes from (artifacts.patroni). */
  patroniArtifact?: ArtifactSource;
  createNode: NodeFactory;
}

/** What each failover mode's wiring hands back to the constructor. */
interface PairSteps {
  primary: ProxmoxLxcNode;
  standby: ProxmoxLxcNode;
  proxy: ProxmoxLxcNode;
  primaryReady: command.remote.Command;
  standbyReady: command.remote.Command;
  settingsApplied: command.remote.Command[];
  failoverSteps: command.remote.Command[];
  /** What HAProxy's configure step waits for. */
  proxyAfter: pulumi.Resource[];
}

/** The payload that makes a configured PostgreSQL node a primary or a standby. */
interface PgSetup {
  payload: "pg-primary-setup" | "pg-standby-setup";
  vars: RunPayloadArgs["vars"];
  /** Steps of other nodes the setup waits for. */
  after?: pulumi.Resource[];
}

function password(name: string, parent: pulumi.Resource): random.RandomPassword {
  // Letters and digits only: the values travel through psql variables, .pgpass and env files.
  return new random.RandomPassword(name, { length: 32, special: false }, { parent });
}

/** A set-up PostgreSQL node: its pg-configure step (writes the files) and its setup step. */
interface PgNodeSteps {
  node: ProxmoxLxcNode;
  configure: command.remote.Command;
  ready: command.remote.Command;
}

/**
 * The rolling apply of the rendered settings (pg-settings-apply), after both nodes' setup: pass 1
 * `<node>-pg-settings-replica`, one node after the other, reloads a node that is in recovery now
 * and restarts it if a parameter needs that, waiting until it streams again; pass 2
 * `<node>-pg-settings-primary`, after every pass-1 step and again one node after the other, does
 * the same for the node that is the primary now (restart: waits until it accepts writes and a
 * replica streams from it). Roles are asked at run time, never assumed from the plan. The steps
 * carry the digest of the rendered settings: they re-run exactly when the settings change.
 */
function applySettings(nodes: PgNodeSteps[], pgConf: string): command.remote.Command[] {
  const setUp = nodes.flatMap((n) => [n.configure, n.ready]);
  const pass = (which: "replica" | "primary", after: command.remote.Command[]) => {
    const steps: command.remote.Command[] = [];
    for (const { node } of nodes) {
      const previous = steps.length > 0 ? [steps[steps.length - 1]] : [];
      steps.push(
        node.runPayload(
          `pg-settings-${which}`,
          {
            payload: "pg-settings-apply",
            vars: {
              ...localPsqlVars(PORTS.postgres),
              PASS: which,
              NODE_NAME: node.plan.name,
              CONF_FILE: PG_CONF_D_FILE,
              SETTINGS_SHA256: sha256Hex(pgConf),
              ANSWER_TIMEOUT_SECONDS: PG_SETTINGS_APPLY.answerTimeoutSeconds,
              RELOAD_TIMEOUT_SECONDS: PG_SETTINGS_APPLY.reloadTimeoutSeconds,
              RESTART_TIMEOUT_SECONDS: PG_SETTINGS_APPLY.restartTimeoutSeconds,
            },
          },
          { dependsOn: [...setUp, ...after, ...previous] },
        ),
      );
    }
    return steps;
  };
  const replicas = pass("replica", []);
  return [...replicas, ...pass("primary", replicas)];
}

/**
 * PostgreSQL 15 primary + streaming standby behind HAProxy, which sends read-write connections
 * only to the primary. pgFailover manual: asynchronous replication over a physical slot, a
 * role-check agent answers HAProxy, a person promotes the standby. pgFailover auto: Patroni +
 * etcd elect the primary and promote the replica by themselves; HAProxy asks Patroni.
 */
export class PgReplicatedPair extends pulumi.ComponentResource {
  readonly failover: PgFailoverMode;
  /** pg1 (manual: the primary; auto: a Patroni node, not necessarily the leader). */
  readonly primary: ProxmoxLxcNode;
  /** pg2 (manual: the standby; auto: a Patroni node). */
  readonly standby: ProxmoxLxcNode;
  readonly proxy: ProxmoxLxcNode;
  readonly superuserPassword: pulumi.Output<string>;
  readonly replicationPassword: pulumi.Output<string>;
  readonly appPassword: pulumi.Output<string>;
  /**
   * Roles, app database (and, manual, the slot) exist on the primary: manual, pg1's setup; auto,
   * pg1's pg-app-setup, which ends once the leader, whichever it is, has them.
   */
  readonly primaryReady: command.remote.Command;
  readonly standbyReady: command.remote.Command;
  /** pgFailover auto: etcd-configure of the 3 members, then patroni-configure of pg1 and pg2. */
  readonly failoverSteps: command.remote.Command[];
  readonly proxyReady: command.remote.Command;
  /**
   * The rolling settings apply, in order: `<node>-pg-settings-replica` of each PG node, then
   * `<node>-pg-settings-primary` of each (see applySettings); none with pgFailover auto.
   */
  readonly settingsApplied: command.remote.Command[];
  readonly readWrite: string;
  readonly readOnly: string;

  constructor(name: string, args: PgReplicatedPairArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-ha:database:PgReplicatedPair", name, {}, opts);
    const { pg } = args;
    this.failover = pg.failover.mode;
    this.superuserPassword = password("pg-superuser-password", this).result;
    this.replicationPassword = password("pg-replication-password", this).result;
    this.appPassword = password("pg-app-password", this).result;

    const postgres: PostgresConfOptions = {
      port: PORTS.postgres,
      sharedBuffersMb: pg.sharedBuffersMb,
      maxSlotWalKeepSize: pg.maxSlotWalKeepSize,
      archive: args.archive,
      parameters: pg.parameters,
    };
    const hba: PgHbaOptions = {
      database: pg.database,
      appUser: pg.appUser,
      replicationUser: pg.replicationUser,
      replicationClients: [args.primary.ip, args.standby.ip],
      appClients: [...args.appClients.map((p) => p.ip), args.proxy.ip],
    };
    const pair =
      this.failover === "auto"
        ? this.patroniPair(args, postgres, hba)
        : this.manualPair(args, postgres, hba);
    this.primary = pair.primary;
    this.standby = pair.standby;
    this.proxy = pair.proxy;
    this.primaryReady = pair.primaryReady;
    this.standbyReady = pair.standbyReady;
    this.settingsApplied = pair.settingsApplied;
    this.failoverSteps = pair.failoverSteps;

    this.proxyReady = this.proxy.runPayload(
      "haproxy-configure",
      {
        payload: "haproxy-configure",
        vars: {
          HAPROXY_CFG: renderHaproxyCfg({
            primary: { name: args.primary.name, host: args.primary.ip },
            standby: { name: args.standby.name, host: args.standby.ip },
            pgPort: PORTS.postgres,
            roleCheckPort: this.failover === "auto" ? PORTS.patroniRestApi : PORTS.pgRoleCheck,
            readWritePort: PORTS.haproxyReadWrite,
            readOnlyPort: PORTS.haproxyReadOnly,
            statsPort: PORTS.haproxyStats,
            ...(this.failover === "auto" ? { patroniChecks: pg.failover.haproxyCheck } : {}),
          }),
        },
      },
      { dependsOn: pair.proxyAfter },
    );

    this.readWrite = `${args.proxy.ip}:${PORTS.haproxyReadWrite}`;
    this.readOnly = `${args.proxy.ip}:${PORTS.haproxyReadOnly}`;
    this.registerOutputs({ readWrite: this.readWrite, readOnly: this.readOnly });
  }

  /** pgFailover manual: pg-configure, then the primary's and the standby's setup payloads. */
  private manualPair(
    args: PgReplicatedPairArgs,
    postgres: PostgresConfOptions,
    hbaOptions: PgHbaOptions,
  ): PairSteps {
    const { pg } = args;
    const pgConf = renderPostgresConf(postgres);
    const hba = renderPgHba(hbaOptions);
    const configureVars = {
      ...localPsqlVars(PORTS.postgres),
      PG_CONF: pgConf,
      PG_HBA: hba,
      ROLE_CHECK_SCRIPT: renderRoleCheckScript(PORTS.postgres),
      ROLE_CHECK_SOCKET: renderRoleCheckSocket(PORTS.pgRoleCheck),
      ROLE_CHECK_SERVICE: renderRoleCheckService(),
    };

    /** A PostgreSQL node: install, configure, then its role's (secret) setup payload. */
    const setUp = (plan: NodePlan, setup: PgSetup) => {
      const node = args.createNode(plan, this);
      const install = installRolePackages(node, renderCreateClusterConf());
      const configure = node.runPayload(
        "pg-configure",
        { payload: "pg-configure", vars: configureVars },
        { dependsOn: [install] },
      );
      const ready = node.runPayload(
        setup.payload,
        { payload: setup.payload, secret: true, vars: setup.vars },
        { dependsOn: [configure, ...(setup.after ?? [])] },
      );
      return { node, configure, ready };
    };

    const primary = setUp(args.primary, {
      payload: "pg-primary-setup",
      vars: {
        SETUP_SQL: renderPrimarySetupSql({
          database: pg.database,
          appUser: pg.appUser,
          replicationUser: pg.replicationUser,
          slot: pg.replicationSlot,
        }),
        SLOT: pg.replicationSlot,
        ...localPsqlVars(PORTS.postgres),
        SUPERUSER_PASSWORD: this.superuserPassword,
        REPLICATION_PASSWORD: this.replicationPassword,
        APP_PASSWORD: this.appPassword,
      },
    });

    const standby = setUp(args.standby, {
      payload: "pg-standby-setup",
      vars: {
        PRIMARY_HOST: args.primary.ip,
        ...localPsqlVars(PORTS.postgres),
        DATABASE: pg.database,
        REPLICATION_USER: pg.replicationUser,
        REPLICATION_PASSWORD: this.replicationPassword,
        SLOT: pg.replicationSlot,
      },
      // The base backup needs the primary's replication role and slot.
      after: [primary.ready],
    });
    const settingsApplied = applySettings([primary, standby], pgConf);

    const proxy = args.createNode(args.proxy, this);
    const proxyInstall = installRolePackages(proxy);
    return {
      primary: primary.node,
      standby: standby.node,
      proxy,
      primaryReady: primary.ready,
      standbyReady: standby.ready,
      settingsApplied,
      failoverSteps: [],
      proxyAfter: [proxyInstall],
    };
  }

  /**
   * pgFailover auto (patroniPair.ts): etcd on pg1, pg2 and pgproxy, Patroni on pg1 and pg2, the
   * app database on the leader; HAProxy after both Patroni. No rolling settings apply: Patroni
   * owns PostgreSQL's restarts (docs/DESIGN.md).
   */
  private patroniPair(
    args: PgReplicatedPairArgs,
    postgres: PostgresConfOptions,
    hba: PgHbaOptions,
  ): PairSteps {
    const patroniArtifact = args.patroniArtifact;
    if (!patroniArtifact)
      throw new Error("pgFailover auto needs the Patroni wheel (artifacts.patroni)");
    const proxy = args.createNode(args.proxy, this);
    const proxyInstall = installRolePackages(proxy, "", "auto");
    const steps = wirePatroniPair({
      pgPlans: [args.primary, args.standby],
      witness: { node: proxy, install: proxyInstall },
      plans: args.plans,
      pg: args.pg,
      postgres,
      hba,
      passwords: {
        superuser: this.superuserPassword,
        replication: this.replicationPassword,
        rewind: password("pg-rewind-password", this).result,
        restApi: password("patroni-rest-password", this).result,
        app: this.appPassword,
      },
      patroniArtifact,
      createNode: args.createNode,
      parent: this,
    });
    return {
      primary: steps.nodes[0],
      standby: steps.nodes[1],
      proxy,
      primaryReady: steps.appSetup[0],
      standbyReady: steps.appSetup[1],
      settingsApplied: [],
      failoverSteps: [...steps.etcd, ...steps.patroni],
      proxyAfter: [proxyInstall, ...steps.patroni],
    };
  }
}

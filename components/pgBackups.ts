import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PORTS } from "./config/ports";
import type { BackupSettings } from "./config/types";
import { NODE_EXPORTER_TEXTFILE_DIR } from "./render/observability/services";
import {
  BACKUP_TYPES,
  PGBACKREST_CONF_PATH,
  PGBACKREST_RESTORE_CONF_PATH,
  PGBACKREST_RUN_SCRIPT_PATH,
  PGBACKREST_SERVER_UNIT,
  PGBACKREST_STANZA,
  PGBACKREST_TLS_DIR,
  renderBackupService,
  renderBackupTimer,
  renderPgNodeConf,
  renderRepoConf,
  renderRestoreConf,
  renderRunScript,
  renderServerUnit,
} from "./render/pgbackrest";
import { BACKUP_PACKAGES, BACKUP_REPO_PACKAGES } from "./render/packages";
import { renderRepoCreateClusterConf } from "./render/postgres";
import type { ProxmoxLxcNode } from "./proxmoxLxcNode";

export interface PgBackupsArgs {
  backup: BackupSettings;
  /** The node that holds the repository (already created by its own component). */
  repo: ProxmoxLxcNode;
  /** Both PostgreSQL nodes, each with the step after which it runs as primary or standby. */
  pgNodes: { node: ProxmoxLxcNode; ready: pulumi.Resource }[];
  /** The pair's settings are in effect (archive_mode needs a restart on a running primary). */
  settingsApplied: pulumi.Resource[];
}

/**
 * pgBackRest beside the PostgreSQL pair: WAL archive and scheduled backups to a repository on
 * another node, over mutually authenticated TLS (the repository node's own CA). Which node is
 * primary is found by pgBackRest at run time, so a promoted standby archives and is backed up
 * without a change here.
 */
export class PgBackups extends pulumi.ComponentResource {
  /** The first full backup exists and the WAL archive works (pgbackrest check). */
  readonly ready: command.remote.Command;

  constructor(name: string, args: PgBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pve-ha:database:PgBackups", name, {}, opts);
    const { backup, repo } = args;
    const tlsPort = PORTS.pgbackrestTls;

    // Secret stdout: each PostgreSQL node's private key travels to that node through it.
    const certs = repo.runPayload(
      "pgbackrest-certs",
      {
        payload: "pgbackrest-certs",
        secret: true,
        vars: {
          PACKAGES: BACKUP_REPO_PACKAGES.join(" "),
          CREATECLUSTER_CONF: renderRepoCreateClusterConf(),
          REPO_NAME: repo.plan.name,
          REPO_IP: repo.plan.ip,
          PG_NODES: args.pgNodes.map(({ node }) => `${node.plan.name}=${node.plan.ip}`).join(" "),
          TLS_DIR: PGBACKREST_TLS_DIR,
          SERVER_UNIT_NAME: PGBACKREST_SERVER_UNIT,
        },
      },
      { parent: this },
    );

    const pgConfigured = args.pgNodes.map(({ node, ready }) =>
      node.runPayload(
        "pgbackrest-configure",
        {
          payload: "pgbackrest-configure",
          secret: true,
          vars: {
            PACKAGES: BACKUP_PACKAGES.join(" "),
            NODE_NAME: node.plan.name,
            TLS_BUNDLE: certs.stdout,
            TLS_DIR: PGBACKREST_TLS_DIR,
            CONF: renderPgNodeConf({
              repoName: repo.plan.name,
              repoIp: repo.plan.ip,
              tlsPort,
              pgPort: PORTS.postgres,
            }),
            CONF_PATH: PGBACKREST_CONF_PATH,
            SERVER_UNIT: renderServerUnit(),
            SERVER_UNIT_NAME: PGBACKREST_SERVER_UNIT,
          },
        },
        { parent: this, dependsOn: [certs, ready] },
      ),
    );

    const [full, incr] = BACKUP_TYPES;
    this.ready = repo.runPayload(
      "pgbackrest-repo",
      {
        payload: "pgbackrest-repo",
        vars: {
          REPO_CONF: renderRepoConf({
            repoPath: backup.repoPath,
            retentionFull: backup.retentionFull,
            tlsPort,
            pgPort: PORTS.postgres,
            pgNodes: args.pgNodes.map(({ node }) => ({ name: node.plan.name, ip: node.plan.ip })),
          }),
          RESTORE_CONF: renderRestoreConf({
            repoPath: backup.repoPath,
            scratchPort: PORTS.pgRestoreScratch,
          }),
          CONF_PATH: PGBACKREST_CONF_PATH,
          RESTORE_CONF_PATH: PGBACKREST_RESTORE_CONF_PATH,
          REPO_PATH: backup.repoPath,
          STANZA: PGBACKREST_STANZA,
          SERVER_UNIT: renderServerUnit(),
          SERVER_UNIT_NAME: PGBACKREST_SERVER_UNIT,
          RUN_SCRIPT: renderRunScript(NODE_EXPORTER_TEXTFILE_DIR),
          RUN_SCRIPT_PATH: PGBACKREST_RUN_SCRIPT_PATH,
          FULL_SERVICE: renderBackupService(full),
          FULL_TIMER: renderBackupTimer(full, backup.fullSchedule),
          INCR_SERVICE: renderBackupService(incr),
          INCR_TIMER: renderBackupTimer(incr, backup.incrSchedule),
          TEXTFILE_DIR: NODE_EXPORTER_TEXTFILE_DIR,
        },
      },
      { parent: this, dependsOn: [certs, ...pgConfigured, ...args.settingsApplied] },
    );
    this.registerOutputs({ repoNode: repo.plan.name });
  }
}

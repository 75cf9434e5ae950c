import { NODE_EXPORTER_TEXTFILE_DIR } from "./services";

/*
 * The node_exporter textfile that keepalived's notify script keeps on each LB node (issue 14):
 * the contract between the keepalived renderer, which writes it, and the alerts and the overview
 * dashboard, which read it through the `node` job.
 */

/** 1 while this node is VRRP MASTER (holds the virtual IP), else 0. */
export const VRRP_MASTER_METRIC = "pve_ha_vrrp_master";
/** 1 while this node is in VRRP FAULT (its nginx health check fails), else 0. */
export const VRRP_FAULT_METRIC = "pve_ha_vrrp_fault";
/** node_exporter reads only `*.prom`: write a temporary name beside it, then rename. */
export const VRRP_TEXTFILE_PATH = `${NODE_EXPORTER_TEXTFILE_DIR}/pve-ha-vrrp.prom`;

export type VrrpState = "MASTER" | "BACKUP" | "FAULT";

/** The textfile's content while this node is in `state` for the VRRP instance `instance`. */
export function renderVrrpTextfile(instance: string, state: VrrpState): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(instance)) {
    throw new Error(`vrrp textfile: instance must match [A-Za-z0-9_.-]+ (got "${instance}")`);
  }
  const gauge = (name: string, help: string, on: boolean) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    `${name}{vrrp_instance="${instance}"} ${on ? 1 : 0}`,
  ];
  return [
    ...gauge(VRRP_MASTER_METRIC, "1 while this node is VRRP MASTER.", state === "MASTER"),
    ...gauge(VRRP_FAULT_METRIC, "1 while this node is in VRRP FAULT.", state === "FAULT"),
    "",
  ].join("\n");
}

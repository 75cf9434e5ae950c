/** The optional Proxmox vzdump job of the stack's containers: its schedule and its job id. */

/**
 * A Proxmox calendar event ("daily", "02:30", "mon..fri 02:00", "*-*-* 03:15") or "" (no job):
 * words of letters, digits and `*:/,.~-` separated by single spaces. Proxmox checks the rest.
 */
export const CALENDAR_EVENT_OR_EMPTY = /^(|[A-Za-z0-9*:/,.~-]+( [A-Za-z0-9*:/,.~-]+)*)$/;

/** Longest id Proxmox accepts for a job (pve-configid, `^[a-z][a-z0-9_-]+$`). */
const JOB_ID_MAX = 50;

/**
 * The job id of a stack's vzdump job: `pve-ha-stack-<stack>`, lower case, every character
 * Proxmox refuses turned into `-`, so two stacks on one cluster keep separate jobs.
 */
export function vzdumpJobId(stackName: string): string {
  const safe = stackName.toLowerCase().replace(/[^a-z0-9_-]/g, "-");
  return `pve-ha-stack-${safe}`.slice(0, JOB_ID_MAX);
}

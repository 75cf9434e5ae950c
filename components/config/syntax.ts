/** Shapes of config values that more than one part of the validation checks. */

/** A host name or IPv4 address, also a Proxmox node name. */
export const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** A Unix user name. */
export const USER_NAME = /^[a-z_][a-z0-9_-]*$/;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

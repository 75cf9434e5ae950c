/**
 * How systemd restarts a service of the stack: after a crash (non-zero exit, or killed by a signal
 * other than SIGTERM/SIGINT/SIGHUP/SIGPIPE), never after a deliberate `systemctl stop`, so a
 * failover manager that stops a unit is not fought. More than `startLimitBurst` starts within
 * `startLimitIntervalSec` (a crash loop; manual starts count too) leave the unit `failed`.
 *
 * Units the project renders carry these lines; Debian's units get the same policy as a drop-in
 * written by `ensure_restart_policy` in scripts/payloads/lib.sh (a unit test keeps the two equal).
 */
export const RESTART_POLICY = {
  restart: "on-failure",
  restartSec: 1,
  startLimitIntervalSec: 120,
  startLimitBurst: 5,
} as const;

/** `[Unit]` lines: the start limit that ends a crash loop. */
export function renderStartLimitLines(): string {
  return [
    `StartLimitIntervalSec=${RESTART_POLICY.startLimitIntervalSec}`,
    `StartLimitBurst=${RESTART_POLICY.startLimitBurst}`,
  ].join("\n");
}

/** `[Service]` lines: restart after a crash. */
export function renderRestartLines(): string {
  return [`Restart=${RESTART_POLICY.restart}`, `RestartSec=${RESTART_POLICY.restartSec}`].join(
    "\n",
  );
}

/** Drop-in `<unit>.d/restart.conf` for a unit that comes with a Debian package. */
export function renderRestartDropIn(): string {
  return `# pve-ha-stack: restart after a crash, never after a deliberate stop.
[Unit]
${renderStartLimitLines()}

[Service]
${renderRestartLines()}
`;
}

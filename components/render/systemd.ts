/** Small systemd units of the stack. */
import { ROLE_CHECK_SCRIPT_PATH } from "./postgres";

export const ROLE_CHECK_SOCKET = "pg-role-check.socket";

/** Socket-activated role check: one short-lived agent process per HAProxy check. */
export function renderRoleCheckSocket(port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`role check port must be 1-65535 (got ${port})`);
  }
  return `[Unit]
Description=PostgreSQL role check for HAProxy (port ${port})

[Socket]
ListenStream=${port}
Accept=yes
MaxConnections=64

[Install]
WantedBy=sockets.target
`;
}

/**
 * One agent per connection. No Restart=: PID 1 holds the listening socket, so a killed agent costs
 * one check and the next connection starts a fresh one (restarting it would answer no one). A
 * failed instance is garbage-collected instead of piling up in `systemctl --failed`.
 */
export function renderRoleCheckService(): string {
  return `[Unit]
Description=PostgreSQL role check (one request)
CollectMode=inactive-or-failed

[Service]
Type=simple
User=postgres
Group=postgres
ExecStart=${ROLE_CHECK_SCRIPT_PATH}
StandardInput=socket
StandardOutput=socket
StandardError=journal
RuntimeMaxSec=10
`;
}

/** /usr/local/bin wrapper that runs one Kafka CLI main class with the node's libs. */
export function renderJavaToolWrapper(opts: {
  mainClass: string;
  libsDir: string;
  log4jConfigPath: string;
}): string {
  if (!/^[A-Za-z0-9_.$]+$/.test(opts.mainClass)) {
    throw new Error(`main class is invalid (got "${opts.mainClass}")`);
  }
  return `#!/bin/sh
# Kafka CLI wrapper (rendered by pve-ha-stack).
exec java -Xmx256m -Dkafka.log.level=WARN -Dlog4j2.configurationFile=${opts.log4jConfigPath} \\
  -cp '${opts.libsDir}/*' ${opts.mainClass} "$@"
`;
}

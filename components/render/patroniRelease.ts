/**
 * The Patroni that pgFailover auto runs: 3.1.2 from PyPI, not Debian 12's 3.0.2. Debian's
 * package stays installed for its dependencies (psycopg2, urllib3, PyYAML, click, ...) and its
 * patroni@.service; the wheel (pure Python) is unpacked beside it and the unit runs it.
 *
 * Why: 3.0.2's etcd3 update_leader put the leader key unconditionally. A primary whose lease had
 * expired behind a partition came back, wrote its own name over the key the replica had taken
 * meanwhile, and the new primary was rewound: rows it had committed were lost (seen in the
 * sandbox's link-down drill; fixed upstream in 3.0.3, patroni/patroni#2689 and #2693).
 * Why not newer: from 3.2 Patroni raises a ttl below 20 s to 20, which puts a hard loss of the
 * primary past the 10 s the stack promises (config/pgFailover.ts).
 */
export const PATRONI_VERSION = "3.1.2";
export const PATRONI_WHEEL = `patroni-${PATRONI_VERSION}-py3-none-any.whl`;
/** PyPI's digest of the wheel (scripts/artifacts/fetch-patroni.sh checks it). */
export const PATRONI_WHEEL_SHA256 =
  "3ce7362c207c4da6f75c3ee85755f6e92452c1d9a8a2286c5365655853302b71";
/** Where the wheel is unpacked in a PostgreSQL container (one directory per version). */
export const PATRONI_HOME = `/opt/patroni-${PATRONI_VERSION}`;
/** The wheel as pushed into the container. */
export const PATRONI_WHEEL_PATH = `/opt/${PATRONI_WHEEL}`;
/** Wrappers ahead of Debian's /usr/bin in PATH, so patroni and patronictl are this version. */
export const PATRONI_BIN = "/usr/local/bin/patroni";
export const PATRONICTL_BIN = "/usr/local/bin/patronictl";

/** A wrapper script running one entry point of the unpacked wheel with Debian's python3. */
export function renderPatroniWrapper(
  entry: "patroni" | "patronictl",
  home: string = PATRONI_HOME,
): string {
  const main =
    entry === "patroni"
      ? "from patroni.__main__ import main; main()"
      : "from patroni.ctl import ctl; ctl()";
  return `#!/bin/sh
# pve-ha-stack: Patroni ${PATRONI_VERSION} from PyPI (render/patroniRelease.ts), not Debian's.
export PYTHONPATH=${home}
exec /usr/bin/python3 -c '${main}' "$@"
`;
}

/**
 * The LB's active check of the app nodes (lbProbeIntervalMs). nginx's own check is passive: a
 * request sent on a kept-alive connection to a node that went silent (link cut, host lost) waits
 * for proxy_read_timeout, 14 s by default, and nginx keeps sending new requests down the other
 * idle connections it holds to that node meanwhile. Measured in the sandbox: with one app node's
 * link down, a dozen POSTs waited 14 s and a client on 8 connections got no answer for 9 s.
 *
 * This loop asks every app node's port for a TCP connection every interval; after `failures`
 * probes in a row without an answer it ends the LB's connections to that node (`ss -K`, in the
 * LB's own network namespace). nginx then sees an error on each of them and retries the request
 * on the next node (proxy_next_upstream error, POST included: it is idempotent by message_uid)
 * and skips the node for lbFailTimeoutSeconds. While the node stays silent the loop ends what
 * nginx opens to it again. A round in which no node answers ends nothing: that is the LB's own
 * link or a stall of the LB, and ending every connection would only fail what nginx could finish.
 * A TCP probe, not an HTTP one: it only catches a node that does not answer at all, which is what the passive check misses; a slow or crashed app is nginx's part
 * (timeouts, refused connections).
 */
import { isIpv4 } from "../config/net";
import { renderRestartLines, renderStartLimitLines } from "./restartPolicy";

export const UPSTREAM_WATCH_UNIT = "pve-ha-upstream-watch.service";
export const UPSTREAM_WATCH_SCRIPT_PATH = "/usr/local/lib/pve-ha/upstream-watch";
export const UPSTREAM_WATCH_UNIT_PATH = `/etc/systemd/system/${UPSTREAM_WATCH_UNIT}`;

export interface WatchedUpstream {
  name: string;
  host: string;
  port: number;
}

export interface UpstreamWatchOptions {
  upstreams: WatchedUpstream[];
  /** Pause between two rounds of probes. */
  intervalMs: number;
  /** How long one probe waits for the TCP handshake. */
  timeoutMs: number;
  /** Probes in a row without an answer before the node's connections are ended. */
  failures: number;
}

function fail(message: string): never {
  throw new Error(`upstream watch: ${message}`);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function validate(opts: UpstreamWatchOptions): void {
  if (opts.upstreams.length === 0) fail("upstreams must not be empty");
  for (const u of opts.upstreams) {
    if (!/^[A-Za-z0-9_-]+$/.test(u.name)) fail(`upstream name is invalid (got "${u.name}")`);
    if (!isIpv4(u.host)) {
      fail(`upstream ${u.name} host must be an IPv4 address (got "${u.host}")`);
    }
    if (!Number.isInteger(u.port) || u.port < 1 || u.port > 65535) {
      fail(`upstream ${u.name} port is invalid (got ${u.port})`);
    }
  }
  for (const key of ["intervalMs", "timeoutMs", "failures"] as const) {
    if (!Number.isInteger(opts[key]) || opts[key] < 1) {
      fail(`${key} must be a positive integer (got ${opts[key]})`);
    }
  }
}

/** Worst case from the first unanswered probe until the node's connections end, in ms. */
export function upstreamWatchDetectionMs(
  opts: Pick<UpstreamWatchOptions, "intervalMs" | "timeoutMs" | "failures">,
): number {
  return opts.failures * (opts.timeoutMs + opts.intervalMs);
}

/** The loop, a bash script run by UPSTREAM_WATCH_UNIT. */
export function renderUpstreamWatchScript(opts: UpstreamWatchOptions): string {
  validate(opts);
  const list = (f: (u: WatchedUpstream) => string | number): string =>
    opts.upstreams.map((u) => String(f(u))).join(" ");
  return `#!/usr/bin/env bash
# pve-ha-stack: the LB's active check of the app nodes (rendered; see upstreamWatch.ts). Every
# ${opts.intervalMs} ms a TCP connect to each node's port; after ${opts.failures} in a row without an answer
# (${opts.timeoutMs} ms each) the LB's connections to the node are ended, so nginx retries their
# requests on another node at once instead of waiting for its read timeout.
set -Eeuo pipefail

readonly NAMES=(${list((u) => u.name)})
readonly HOSTS=(${list((u) => u.host)})
readonly PORTS=(${list((u) => u.port)})
readonly INTERVAL_S=${seconds(opts.intervalMs)}
readonly TIMEOUT_S=${seconds(opts.timeoutMs)}
readonly FAILURES=${opts.failures}

misses=()
for i in "\${!HOSTS[@]}"; do misses[i]=0; done
silent_rounds=0

# probe <host> <port>: 0 when a TCP connection opens within TIMEOUT_S.
probe() {
  # shellcheck disable=SC2016 # $1 and $2 expand in the inner bash
  timeout "$TIMEOUT_S" bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$1" "$2" 2>/dev/null
}

# end_connections <host> <port>: ends every TCP socket of this namespace to host:port (a request
# waiting for its reply, an idle kept-alive one, a handshake in progress) and prints how many.
# Without kernel support (INET_DIAG_DESTROY) nothing ends and nginx's own timeouts remain.
end_connections() {
  { ss -K -t -n dst "$1" dport = ":$2" 2>/dev/null || true; } | tail -n +2 | wc -l
}

echo "watching ${list((u) => `${u.name}=${u.host}:${u.port}`)}"
while true; do
  pids=()
  for i in "\${!HOSTS[@]}"; do
    probe "\${HOSTS[i]}" "\${PORTS[i]}" &
    pids[i]=$!
  done
  answered=0
  for i in "\${!HOSTS[@]}"; do
    if wait "\${pids[i]}"; then
      if ((misses[i] >= FAILURES)); then echo "\${NAMES[i]} answers again"; fi
      misses[i]=0
      answered=$((answered + 1))
    else
      misses[i]=$((misses[i] + 1))
    fi
  done
  # Every node silent at once is the LB's own trouble (its link, a stall) far more often than
  # every app node's: ending all connections would only turn waiting requests into 502s.
  if ((answered == 0)); then
    silent_rounds=$((silent_rounds + 1))
    if ((silent_rounds == FAILURES)); then echo "every node silent: no connection ended"; fi
    sleep "$INTERVAL_S"
    continue
  fi
  silent_rounds=0
  for i in "\${!HOSTS[@]}"; do
    if ((misses[i] >= FAILURES)); then
      ended=$(end_connections "\${HOSTS[i]}" "\${PORTS[i]}")
      if ((misses[i] == FAILURES || ended > 0)); then
        echo "\${NAMES[i]} silent for \${misses[i]} probes: ended $ended connections to \${HOSTS[i]}:\${PORTS[i]}"
      fi
    fi
  done
  sleep "$INTERVAL_S"
done
`;
}

/** The systemd unit of the loop: after nginx, restarted after a crash like every unit here. */
export function renderUpstreamWatchUnit(): string {
  return `# pve-ha-stack: the LB's active check of the app nodes (see ${UPSTREAM_WATCH_SCRIPT_PATH}).
[Unit]
Description=pve-ha-stack: end the LB's connections to an app node that stopped answering
After=network-online.target nginx.service
${renderStartLimitLines()}

[Service]
Type=simple
ExecStart=${UPSTREAM_WATCH_SCRIPT_PATH}
${renderRestartLines()}

[Install]
WantedBy=multi-user.target
`;
}

import type { KafkaSettings } from "./types";

/**
 * Controller-only voters wait this much longer for a silent active controller than voters that
 * are brokers too. A voter grants a pre-vote only once it has lost the leader itself, so nobody is
 * elected before the second survivor's timer runs out; with equal timers (they run in step) both
 * survivors then stand at once and split the vote, which costs an election backoff. Staggered,
 * the later one stands alone and wins within milliseconds.
 */
export const CONTROLLER_ONLY_VOTER_FETCH_TIMEOUT_EXTRA_MS = 100;

/**
 * The longest the controller takes to move the partitions of a broker that died: when the active
 * controller died with it, the other voters first wait out the quorum fetch timeout (a controller-only
 * voter's when no broker voter is left) and elect a new one (election timeout);
 * then the broker's session runs out (plus one heartbeat of slack).
 * The app waits this long for a new leader before it sends to the broker it suspects.
 */
export function leaderMoveBoundMs(
  kafka: Pick<
    KafkaSettings,
    | "controllerQuorumFetchTimeoutMs"
    | "controllerQuorumElectionTimeoutMs"
    | "brokerSessionTimeoutMs"
    | "brokerHeartbeatIntervalMs"
  >,
): number {
  return (
    kafka.controllerQuorumFetchTimeoutMs +
    CONTROLLER_ONLY_VOTER_FETCH_TIMEOUT_EXTRA_MS +
    kafka.controllerQuorumElectionTimeoutMs +
    kafka.brokerSessionTimeoutMs +
    kafka.brokerHeartbeatIntervalMs
  );
}

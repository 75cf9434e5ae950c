/**
 * The consumer's store-then-commit step for one batch of records, independent of the Kafka and
 * PostgreSQL clients so its ordering rules can be tested directly:
 *   1. malformed records are counted and skipped (they would block the partition forever);
 *   2. every valid message is inserted, retried until it succeeds or the consumer stops;
 *   3. only after the insert has committed (and, with the replica wait, reached a replica) is the
 *      last offset of each partition committed.
 * A crash between 2 and 3 re-delivers the batch; the insert then skips the known uids.
 */
import { type MessagePayload, parsePayload } from "./message";
import { retry, type BackoffOptions } from "./retry";

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  value: string | Buffer | undefined;
  /** Commits offset + 1 of this record for its partition. */
  commit: () => Promise<void>;
}

export interface StoreBatchDeps {
  /**
   * Inserts, skipping known uids; resolves with the uids that were new, after commit. Any error
   * is retried. An error may carry `insertedUids`: rows it committed before failing (e.g. not yet
   * on a replica), which the retry then finds present; they still count as stored.
   */
  insert: (messages: MessagePayload[]) => Promise<Set<string>>;
  retry: BackoffOptions;
  /** Commit attempts before giving up (the batch is then re-delivered and deduplicated). */
  commitAttempts: number;
  signal?: AbortSignal;
  onInvalid?: (record: ConsumedRecord, errors: string[]) => void;
  onRetry?: (stage: "insert" | "commit", error: unknown, attempt: number) => void;
}

export interface BatchOutcome {
  consumed: number;
  stored: number;
  duplicates: number;
  invalid: number;
  committed: number;
}

/** The last record of each partition, in first-seen partition order. */
export function lastRecordPerPartition(records: readonly ConsumedRecord[]): ConsumedRecord[] {
  const last = new Map<string, ConsumedRecord>();
  for (const record of records) {
    const key = `${record.topic}\u0000${record.partition}`;
    const seen = last.get(key);
    if (!seen || seen.offset < record.offset) last.set(key, record);
  }
  return [...last.values()];
}

function insertedUidsOf(error: unknown): Iterable<string> {
  const uids =
    typeof error === "object" && error !== null && "insertedUids" in error
      ? error.insertedUids
      : undefined;
  return uids instanceof Set ? (uids as Set<string>) : [];
}

export async function storeBatch(
  records: readonly ConsumedRecord[],
  deps: StoreBatchDeps,
): Promise<BatchOutcome> {
  const valid: MessagePayload[] = [];
  let invalid = 0;
  for (const record of records) {
    const parsed = parsePayload(record.value);
    if (parsed.ok) {
      valid.push(parsed.value);
    } else {
      invalid++;
      deps.onInvalid?.(record, parsed.errors);
    }
  }

  let stored = 0;
  if (valid.length > 0) {
    const insertedBefore = new Set<string>();
    const inserted = await retry(
      async () => {
        try {
          return await deps.insert(valid);
        } catch (error) {
          for (const uid of insertedUidsOf(error)) insertedBefore.add(uid);
          throw error;
        }
      },
      {
        ...deps.retry,
        signal: deps.signal,
        onRetry: (error, attempt) => deps.onRetry?.("insert", error, attempt),
      },
    );
    stored = new Set([...insertedBefore, ...inserted]).size;
  }

  const toCommit = lastRecordPerPartition(records);
  for (const record of toCommit) {
    await retry(() => record.commit(), {
      ...deps.retry,
      maxAttempts: deps.commitAttempts,
      signal: deps.signal,
      onRetry: (error, attempt) => deps.onRetry?.("commit", error, attempt),
    });
  }

  return {
    consumed: records.length,
    stored,
    duplicates: valid.length - stored,
    invalid,
    committed: toCommit.length,
  };
}

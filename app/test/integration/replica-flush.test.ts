/**
 * The consumer commits a Kafka offset only once a replica has flushed the batch: a real
 * PostgreSQL 15 primary with a real streaming replica (pg_basebackup -R) whose replication link
 * runs through a TcpProxy the test can pause, the app reaching PostgreSQL through another
 * TcpProxy that plays HAProxy's read-write port (moved to a new primary, sessions cut), a real
 * Kafka broker and the app as a real process.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Admin } from "@platformatic/kafka";
import { Client } from "pg";
import { renderPrimarySetupSql } from "../../../components/render/postgres";
import { type AppProcess, createAppProcess, waitFor } from "../support/app-process";
import { postUntilAccepted, runPool } from "../support/client";
import { type KafkaServer, startKafka } from "../support/kafka";
import {
  type PostgresReplica,
  type PostgresServer,
  startPostgres,
  startReplica,
} from "../support/postgres";
import { freePort, sumMetric } from "../support/stack";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy";

const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";
const FLUSH_WAIT_MS = 1000;
const GROUP = "pve-ha-app";

describe("replica flush before the offset commit (real PostgreSQL 15 primary + replica)", () => {
  let primary: PostgresServer;
  let replica: PostgresReplica;
  let link: TcpProxy; // the replica's WAL stream
  let front: TcpProxy; // the app's read-write port (HAProxy)
  let kafka: KafkaServer;
  let app: AppProcess;
  let admin: Admin;
  let logDir: string;

  const metric = (name: string): Promise<number> => sumMetric([app], name);

  /** One series of the app's /metrics, picked by name and labels (name="value"). */
  const series = async (name: string, ...labels: string[]): Promise<number> => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const line = text
      .split("\n")
      .find((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
  };

  const committedOffset = async (): Promise<bigint> => {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [GROUP] });
    const partition = group?.topics
      .find((t) => t.name === "messages")
      ?.partitions.find((p) => p.partitionIndex === 0);
    return partition?.committedOffset ?? -1n;
  };

  const endOffset = async (): Promise<bigint> => {
    const [topic] = await admin.listOffsets({
      topics: [{ name: "messages", partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
    });
    return topic?.partitions[0]?.offset ?? -1n;
  };

  const waitCommittedToEnd = async (timeoutMs: number): Promise<void> => {
    const end = await endOffset();
    await waitFor(
      `offset ${end} committed`,
      async () => (await committedOffset()) >= end,
      timeoutMs,
      50,
    );
  };

  const rowsOn = async (
    server: { query: PostgresServer["query"] },
    uids: string[],
  ): Promise<number> =>
    Number(
      (
        await server.query<{ n: string }>(
          "SELECT count(*) AS n FROM messages WHERE message_uid = ANY($1::text[])",
          [uids],
        )
      )[0]?.n,
    );

  const post = async (uids: string[]): Promise<void> =>
    runPool(uids.length, 4, async (i) => {
      await postUntilAccepted([app], 0, uids[i] as string, `replica-flush ${i}`);
    });

  const streaming = (): Promise<boolean> =>
    primary
      .query<{ state: string }>("SELECT state FROM pg_stat_replication")
      .then((rows) => rows.some((r) => r.state === "streaming"));

  before(
    async () => {
      logDir = mkdtempSync(join(tmpdir(), "pve-ha-app-logs-"));
      primary = await startPostgres(await freePort());
      link = await startTcpProxy(primary.port);
      replica = await startReplica(primary, await freePort(), link.port);
      await waitFor("the replica streaming", streaming, 30000);
      front = await startTcpProxy(primary.port);
      kafka = await startKafka();
      kafka.createTopic("messages", 1);
      admin = new Admin({ clientId: "replica-flush-test", bootstrapBrokers: [kafka.bootstrap] });
      app = createAppProcess({
        nodeName: "webserver1",
        port: await freePort(),
        pg: { ...primary, port: front.port },
        kafkaBrokers: kafka.bootstrap,
        logDir,
        env: { PG_REPLICA_FLUSH_WAIT_MS: String(FLUSH_WAIT_MS) },
      });
      await app.start();
      await waitFor(
        "webserver1 /readyz with database and kafka ok",
        async () => {
          const body = (await (await fetch(`${app.url}/readyz`)).json()) as Record<string, string>;
          return body.database === "ok" && body.kafka === "ok";
        },
        30000,
      );
    },
    { timeout: 240000 },
  );

  after(async () => {
    await app?.stop("SIGTERM");
    await admin?.close().catch(() => undefined);
    await kafka?.stop();
    await front?.close();
    await link?.close();
    replica?.stop();
    primary?.stop();
    if (process.env.KEEP_TEST_LOGS === undefined) rmSync(logDir, { recursive: true, force: true });
    else process.stderr.write(`test logs kept in ${logDir}\n`);
  });

  it("the stack's setup SQL lets the app's (non-superuser) role see the replica's flush position", async () => {
    // The stack's cluster has a postgres superuser; this one was made with -U app.
    await primary.query("CREATE ROLE postgres SUPERUSER LOGIN");
    await primary.query("CREATE ROLE plain LOGIN PASSWORD 'plain-pw'");
    const appPassword = `app-${randomUUID()}`;
    const sql = renderPrimarySetupSql({
      database: "stackdb",
      appUser: "stack_app",
      replicationUser: "stack_repl",
    });
    for (let run = 0; run < 2; run++) {
      // Twice: the deploy re-runs it; it must be idempotent.
      execFileSync(
        `${PG_BIN}/psql`,
        [
          "-X",
          "-q",
          "-v",
          "ON_ERROR_STOP=1",
          "-v",
          `superuser_password=su-${randomUUID()}`,
          "-v",
          `replication_password=repl-${randomUUID()}`,
          "-v",
          `app_password=${appPassword}`,
          "-h",
          "127.0.0.1",
          "-p",
          String(primary.port),
          "-U",
          "app",
          "-d",
          "postgres",
        ],
        { input: sql, env: { ...process.env, PGPASSWORD: primary.password }, stdio: "pipe" },
      );
    }
    const look = async (user: string, password: string, database: string) => {
      const client = new Client({
        host: "127.0.0.1",
        port: primary.port,
        user,
        password,
        database,
      });
      await client.connect();
      try {
        return (
          await client.query<{ state: string | null; flush_lsn: string | null; superuser: string }>(
            "SELECT state, flush_lsn::text, current_setting('is_superuser') AS superuser FROM pg_stat_replication",
          )
        ).rows;
      } finally {
        await client.end();
      }
    };
    const withGrant = await look("stack_app", appPassword, "stackdb");
    assert.equal(withGrant.length, 1);
    assert.equal(withGrant[0]?.superuser, "off");
    assert.equal(withGrant[0]?.state, "streaming");
    assert.match(withGrant[0]?.flush_lsn ?? "", /^[0-9A-F]+\/[0-9A-F]+$/);
    const withoutGrant = await look("plain", "plain-pw", "postgres");
    assert.deepEqual(
      withoutGrant.map((r) => [r.state, r.flush_lsn]),
      [[null, null]],
      "a role without pg_read_all_stats sees the row but not its positions",
    );
  });

  it("commits the offsets once the streaming replica flushed the batch", async (t) => {
    // The consumer in the group and consuming first: a warm-up message stored and committed.
    await post([`warm-up-${randomUUID()}`]);
    await waitCommittedToEnd(30000);
    const countBefore = await series("app_replica_flush_wait_seconds_count", 'outcome="flushed"');
    const sumBefore = await series("app_replica_flush_wait_seconds_sum", 'outcome="flushed"');
    const uids = Array.from({ length: 40 }, () => `flushed-${randomUUID()}`);
    // One at a time: mostly one batch per message, so the wait is measured many times.
    for (const uid of uids) await postUntilAccepted([app], 0, uid, "flushed");
    await waitCommittedToEnd(30000);
    assert.equal(await rowsOn(primary, uids), 40);
    await waitFor(
      "the rows replayed on the replica",
      async () => (await rowsOn(replica, uids)) === 40,
      5000,
      50,
    );
    const count = await series("app_replica_flush_wait_seconds_count", 'outcome="flushed"');
    const sum = await series("app_replica_flush_wait_seconds_sum", 'outcome="flushed"');
    assert.ok(count - countBefore >= 1, "batches waited for the replica");
    assert.equal(await metric("app_replica_flush_timeouts_total"), 0);
    assert.equal(await metric("app_replica_flush_no_replica_total"), 0);
    let bound = "";
    for (const le of ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "+Inf"]) {
      const atMost = await series(
        "app_replica_flush_wait_seconds_bucket",
        `le="${le}"`,
        'outcome="flushed"',
      );
      if (atMost === count) {
        bound = le;
        break;
      }
    }
    const report =
      `${count - countBefore} batches of 40 messages waited for the replica's flush: mean ` +
      `${(((sum - sumBefore) / (count - countBefore)) * 1000).toFixed(2)} ms; ` +
      `all ${count} batches so far within ${bound} s`;
    t.diagnostic(report);
    process.stdout.write(`# replica flush: ${report}\n`);
  });

  it("holds the offsets while the replica gets no WAL, then commits once it catches up", async (t) => {
    const committedBefore = await committedOffset();
    const timeoutsBefore = await metric("app_replica_flush_timeouts_total");
    const storedBefore = await metric("app_messages_stored_total");
    const duplicatesBefore = await metric("app_duplicates_skipped_total");
    link.pause();
    const uids = Array.from({ length: 5 }, () => `held-${randomUUID()}`);
    try {
      await post(uids);
      await waitFor(
        "two replica flush timeouts",
        async () => (await metric("app_replica_flush_timeouts_total")) - timeoutsBefore >= 2,
        FLUSH_WAIT_MS * 10,
      );
      // The batch in hand (the first messages; the others wait in Kafka behind it).
      const inHand = await rowsOn(primary, uids);
      assert.ok(inHand >= 1, "the batch in hand committed on the primary");
      assert.equal(await rowsOn(replica, uids), 0, "not on the replica");
      assert.equal(await committedOffset(), committedBefore, "no offset committed meanwhile");
    } finally {
      link.resume();
    }
    const resumedAt = Date.now();
    await waitCommittedToEnd(FLUSH_WAIT_MS * 10);
    const tookMs = Date.now() - resumedAt;
    assert.equal(await rowsOn(replica, uids), 5);
    assert.equal(
      (await metric("app_messages_stored_total")) - storedBefore,
      5,
      "stored counted once",
    );
    assert.equal(
      await metric("app_duplicates_skipped_total"),
      duplicatesBefore,
      "no false duplicates",
    );
    const report =
      `${(await metric("app_replica_flush_timeouts_total")) - timeoutsBefore} timeouts while the link was paused; ` +
      `offset committed ${tookMs} ms after it resumed`;
    t.diagnostic(report);
    process.stdout.write(`# replica flush: ${report}\n`);
  });

  it("destroys a session that reached a read-only node and resumes on the primary", async () => {
    const retriesBefore = await metric("app_store_retries_total");
    // HAProxy briefly sends the read-write port to the replica (a node being demoted)...
    front.setTarget(replica.port);
    front.cutAll();
    const uids = Array.from({ length: 3 }, () => `read-only-${randomUUID()}`);
    await post(uids);
    await waitFor(
      "two failed store attempts",
      async () => (await metric("app_store_retries_total")) - retriesBefore >= 2,
      15000,
    );
    assert.match(
      readFileSync(join(logDir, "webserver1.log"), "utf8"),
      /cannot execute INSERT in a read-only transaction/,
    );
    // ...then back to the primary without cutting anything: a pooled session still on the replica
    // would fail forever.
    front.setTarget(primary.port);
    await waitCommittedToEnd(15000);
    assert.equal(await rowsOn(primary, uids), 3);
  });

  it("loses no acknowledged message when the primary dies before the replica got the batch", async (t) => {
    const noReplicaBefore = await metric("app_replica_flush_no_replica_total");
    const committedBefore = await committedOffset();
    link.pause();
    const uids = Array.from({ length: 5 }, () => `failover-${randomUUID()}`);
    await post(uids);
    await waitFor(
      "the batch in hand committed on the primary",
      async () => (await rowsOn(primary, uids)) >= 1,
      FLUSH_WAIT_MS * 5,
    );
    await new Promise((r) => setTimeout(r, FLUSH_WAIT_MS * 1.5));
    const onlyOnPrimary = await rowsOn(primary, uids);
    assert.equal(await committedOffset(), committedBefore, "offset held: no replica has the batch");
    assert.equal(await rowsOn(replica, uids), 0);

    // Failover: the primary dies with the batch, the replica (which never got it) is promoted,
    // HAProxy moves the read-write port and cuts the sessions to the old primary.
    const crashedAt = Date.now();
    primary.crash();
    await link.close();
    replica.promote();
    front.setTarget(replica.port);
    front.cutAll();

    await waitCommittedToEnd(30000);
    const tookMs = Date.now() - crashedAt;
    assert.equal(await rowsOn(replica, uids), 5, "every acknowledged message on the new primary");
    assert.ok(
      (await metric("app_replica_flush_no_replica_total")) > noReplicaBefore,
      "the new primary has no replica: committed without waiting",
    );
    const report =
      `${onlyOnPrimary} of 5 acknowledged messages were committed on the old primary only; ` +
      `all 5 on the new primary, offset committed ${tookMs} ms after the crash (promotion + retry)`;
    t.diagnostic(report);
    process.stdout.write(`# replica flush: ${report}\n`);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config";

const minimal = { NODE_NAME: "webserver1", PG_PASSWORD: "secret", KAFKA_BROKERS: "10.0.0.16:9092" };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail("expected a ConfigError");
}

describe("config", () => {
  it("applies the contract defaults", () => {
    const c = loadConfig(minimal);
    assert.equal(c.port, 3000);
    assert.equal(c.host, "0.0.0.0");
    assert.equal(c.pg.port, 5432);
    assert.equal(c.kafka.topic, "messages");
    assert.equal(c.kafka.groupId, "pve-ha-app");
    assert.equal(c.kafka.clientId, "webserver1", "KAFKA_CLIENT_ID defaults to NODE_NAME");
    assert.equal(c.kafka.sessionTimeoutMs, 6000);
    assert.equal(c.kafka.publishDeadlineMs, 15000);
    assert.equal(c.logLevel, "info");
  });

  it("splits and trims the broker list", () => {
    const c = loadConfig({ ...minimal, KAFKA_BROKERS: "10.0.0.16:9092, 10.0.0.17:9092" });
    assert.deepEqual(c.kafka.brokers, ["10.0.0.16:9092", "10.0.0.17:9092"]);
  });

  it("names every missing required variable at once", () => {
    assert.deepEqual(problems({}), [
      "NODE_NAME is required",
      "PG_PASSWORD is required",
      "KAFKA_BROKERS is required",
    ]);
  });

  it("names the bad variable and its value", () => {
    assert.deepEqual(problems({ ...minimal, PORT: "80a" }), [
      'PORT must be an integer from 1 to 65535 (got "80a")',
    ]);
    assert.deepEqual(problems({ ...minimal, KAFKA_BROKERS: "kafka1" }), [
      'KAFKA_BROKERS has an invalid entry (got "kafka1")',
    ]);
    assert.deepEqual(problems({ ...minimal, LOG_LEVEL: "loud" }), [
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace (got "loud")',
    ]);
    assert.deepEqual(problems({ ...minimal, NODE_NAME: "web server" }), [
      'NODE_NAME has an invalid value (got "web server")',
    ]);
  });

  it("reads the Kafka publish deadline and rejects a bad one, naming it", () => {
    const c = loadConfig({ ...minimal, KAFKA_PUBLISH_DEADLINE_MS: "30000" });
    assert.equal(c.kafka.publishDeadlineMs, 30000);
    assert.deepEqual(problems({ ...minimal, KAFKA_PUBLISH_DEADLINE_MS: "15s" }), [
      'KAFKA_PUBLISH_DEADLINE_MS must be an integer from 1000 to 120000 (got "15s")',
    ]);
    assert.deepEqual(problems({ ...minimal, KAFKA_PUBLISH_DEADLINE_MS: "500" }), [
      'KAFKA_PUBLISH_DEADLINE_MS must be an integer from 1000 to 120000 (got "500")',
    ]);
  });

  it("connects to a broker with a short timeout unless told otherwise, and rejects a bad one", () => {
    assert.equal(loadConfig(minimal).kafka.connectTimeoutMs, 1000);
    assert.equal(
      loadConfig({ ...minimal, KAFKA_CONNECT_TIMEOUT_MS: "2500" }).kafka.connectTimeoutMs,
      2500,
    );
    assert.deepEqual(problems({ ...minimal, KAFKA_CONNECT_TIMEOUT_MS: "0" }), [
      'KAFKA_CONNECT_TIMEOUT_MS must be an integer from 100 to 30000 (got "0")',
    ]);
    assert.equal(loadConfig(minimal).kafka.requestTimeoutMs, 2000);
    assert.deepEqual(problems({ ...minimal, KAFKA_REQUEST_TIMEOUT_MS: "2 s" }), [
      'KAFKA_REQUEST_TIMEOUT_MS must be an integer from 500 to 60000 (got "2 s")',
    ]);
  });

  it("waits up to 5 s for a replica's flush by default; 0 turns the wait off", () => {
    assert.equal(loadConfig(minimal).pg.replicaFlushWaitMs, 5000);
    assert.equal(loadConfig(minimal).pg.replicaFlushPollMs, 2);
    assert.equal(
      loadConfig({ ...minimal, PG_REPLICA_FLUSH_WAIT_MS: "0" }).pg.replicaFlushWaitMs,
      0,
    );
    assert.deepEqual(
      problems({ ...minimal, PG_REPLICA_FLUSH_WAIT_MS: "5s", PG_REPLICA_FLUSH_POLL_MS: "0" }),
      [
        'PG_REPLICA_FLUSH_WAIT_MS must be an integer from 0 to 60000 (got "5s")',
        'PG_REPLICA_FLUSH_POLL_MS must be an integer from 1 to 1000 (got "0")',
      ],
    );
  });

  it("keeps the heartbeat at most a third of the session timeout", () => {
    const [problem] = problems({
      ...minimal,
      KAFKA_SESSION_TIMEOUT_MS: "6000",
      KAFKA_HEARTBEAT_INTERVAL_MS: "3000",
    });
    assert.match(problem ?? "", /KAFKA_HEARTBEAT_INTERVAL_MS must be at most a third/);
  });

  it("never echoes the password", () => {
    const error = (() => {
      try {
        loadConfig({ ...minimal, PORT: "0" });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    assert.ok(error);
    assert.doesNotMatch(error.message, /secret/);
  });
});

/** Prometheus metrics of one app process (GET /metrics). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Pool } from "pg";

export interface AppMetrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route" | "status">;
  produced: Counter;
  produceFailures: Counter;
  consumed: Counter;
  stored: Counter;
  duplicates: Counter;
  invalid: Counter;
  storeRetries: Counter;
  consumerLag: Gauge<"partition">;
  consumerRestarts: Counter;
  replicaFlushWait: Histogram<"outcome">;
  replicaFlushNoReplica: Counter;
  replicaFlushTimeouts: Counter;
}

export function createMetrics(nodeName: string, pool?: Pool): AppMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeName });
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  const metrics: AppMetrics = {
    registry,
    httpRequests: new Counter({
      name: "app_http_requests_total",
      help: "HTTP requests by method, route and status",
      labelNames: ["method", "route", "status"],
      registers: r,
    }),
    httpDuration: new Histogram({
      name: "app_http_request_duration_seconds",
      help: "HTTP request latency by method, route and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers: r,
    }),
    produced: new Counter({
      name: "app_messages_produced_total",
      help: "Messages acknowledged by Kafka (acks=all)",
      registers: r,
    }),
    produceFailures: new Counter({
      name: "app_produce_failures_total",
      help: "Submissions answered 503 because Kafka did not acknowledge in time",
      registers: r,
    }),
    consumed: new Counter({
      name: "app_messages_consumed_total",
      help: "Records read from Kafka by this node's consumer",
      registers: r,
    }),
    stored: new Counter({
      name: "app_messages_stored_total",
      help: "Messages inserted into PostgreSQL by this node",
      registers: r,
    }),
    duplicates: new Counter({
      name: "app_duplicates_skipped_total",
      help: "Consumed messages whose message_uid was already stored",
      registers: r,
    }),
    invalid: new Counter({
      name: "app_invalid_records_total",
      help: "Consumed records that were not a valid message payload (skipped)",
      registers: r,
    }),
    storeRetries: new Counter({
      name: "app_store_retries_total",
      help: "Retries of a batch insert or offset commit after an error",
      registers: r,
    }),
    consumerLag: new Gauge({
      name: "app_consumer_lag",
      help: "Records behind the partition end, as last measured by this node",
      labelNames: ["partition"],
      registers: r,
    }),
    consumerRestarts: new Counter({
      name: "app_consumer_restarts_total",
      help: "Times the Kafka consumer was recreated after an error",
      registers: r,
    }),
    replicaFlushWait: new Histogram({
      name: "app_replica_flush_wait_seconds",
      help: "Wait after a batch commit until a replica flushed its WAL, by outcome (flushed, timeout)",
      labelNames: ["outcome"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    replicaFlushNoReplica: new Counter({
      name: "app_replica_flush_no_replica_total",
      help: "Batches whose offsets were committed with no replica connected (data on the primary only)",
      registers: r,
    }),
    replicaFlushTimeouts: new Counter({
      name: "app_replica_flush_timeouts_total",
      help: "Batches not committed because no connected replica flushed them in time (retried)",
      registers: r,
    }),
  };
  if (pool) {
    new Gauge({
      name: "app_db_pool_connections",
      help: "PostgreSQL pool connections by state",
      labelNames: ["state"],
      registers: r,
      collect() {
        this.set({ state: "total" }, pool.totalCount);
        this.set({ state: "idle" }, pool.idleCount);
        this.set({ state: "waiting" }, pool.waitingCount);
      },
    });
  }
  return metrics;
}

/** Fastify server: routes only; the Kafka, PostgreSQL and metrics objects are passed in. */
import formbody from "@fastify/formbody";
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { AppConfig } from "../config";
import type { StoredMessage } from "../db";
import { MAX_BODY_CHARS, buildPayload, validateSubmission } from "../message";
import type { AppMetrics } from "../metrics";
import type { Publisher } from "../producer";
import { withTimeout } from "../retry";
import { renderAcceptedPage, renderAdminPage, renderErrorPage, renderFormPage } from "./pages";

export interface MessageReader {
  list(page: {
    limit: number;
    offset: number;
  }): Promise<{ total: number; messages: StoredMessage[] }>;
  ping(): Promise<void>;
}

export interface ServerDeps {
  config: AppConfig;
  logger: Logger;
  metrics: AppMetrics;
  publisher: Publisher;
  reader: MessageReader;
  consumerRunning: () => boolean;
  newUid: () => string;
  now?: () => Date;
}

const ADMIN_PAGE_SIZE = 50;
// Dependency checks of /readyz: reported only, so they are cut short; a probe with a 2 s timeout
// gets its answer even while a broker is silent.
const CHECK_TIMEOUT_MS = 1000;
/** Retry-After of a 503 to a POST: a new partition leader is usually in place within seconds. */
export const PUBLISH_RETRY_AFTER_SECONDS = 1;

function isFormRequest(request: FastifyRequest): boolean {
  return (request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
}

function parseIntParam(value: unknown, fallback: number, min: number, max: number): number | null {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !/^\d{1,9}$/.test(value)) return null;
  const n = Number(value);
  return n < min || n > max ? null : n;
}

export function buildServer(deps: ServerDeps) {
  const { config, metrics, publisher, reader } = deps;
  const now = deps.now ?? (() => new Date());
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: config.maxBodyBytes,
    logController: new LogController({ disableRequestLogging: true }),
    // A request the LB sent on a kept-alive connection while this node shuts down is served (the
    // producer closes only after the server): a 503 would reach the client, nginx retries only
    // connection errors and timeouts on another node. New connections are refused meanwhile.
    return503OnClosing: false,
  });
  app.register(formbody, { bodyLimit: config.maxBodyBytes });

  let draining = false;
  app.addHook("onClose", async () => {
    draining = true;
  });

  app.addHook("onRequest", async (request, reply) => {
    reply.header("X-Served-By", config.nodeName);
    (request as FastifyRequest & { startedAt?: bigint }).startedAt = process.hrtime.bigint();
  });
  app.addHook("onResponse", async (request, reply) => {
    const started = (request as FastifyRequest & { startedAt?: bigint }).startedAt;
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    if (started !== undefined) {
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  });

  const reject = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    errors: string[],
  ) => {
    if (isFormRequest(request)) {
      return reply
        .code(status)
        .type("text/html; charset=utf-8")
        .send(renderErrorPage(config.nodeName, status, errors));
    }
    return reply.code(status).send({ error: errors[0], errors, served_by: config.nodeName });
  };

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, "request failed");
    return reject(request, reply, status, [status >= 500 ? "internal error" : error.message]);
  });
  app.setNotFoundHandler((request, reply) =>
    reject(request, reply, 404, [`no route ${request.method} ${request.url.split("?")[0]}`]),
  );

  app.get("/", async (_request, reply) =>
    reply
      .type("text/html; charset=utf-8")
      .send(renderFormPage(config.nodeName, deps.newUid(), MAX_BODY_CHARS)),
  );

  app.post("/messages", async (request, reply) => {
    const header = request.headers["idempotency-key"];
    if (Array.isArray(header)) return reject(request, reply, 400, ["Idempotency-Key given twice"]);
    const result = validateSubmission(request.body, header);
    if (!result.ok) return reject(request, reply, 400, result.errors);
    const payload = buildPayload(result.value, {
      nodeName: config.nodeName,
      now: now(),
      newUid: deps.newUid,
    });
    try {
      await publisher.publish(payload);
    } catch (error) {
      metrics.produceFailures.inc();
      request.log.error(
        { err: error, message_uid: payload.message_uid },
        "kafka did not acknowledge",
      );
      reply.header("Retry-After", String(PUBLISH_RETRY_AFTER_SECONDS));
      return reject(request, reply, 503, [
        "message not accepted: Kafka is unavailable, retry later with the same Idempotency-Key",
      ]);
    }
    metrics.produced.inc();
    if (isFormRequest(request)) {
      return reply
        .code(202)
        .type("text/html; charset=utf-8")
        .send(renderAcceptedPage(config.nodeName, payload.message_uid));
    }
    return reply.code(202).send({ message_uid: payload.message_uid, served_by: config.nodeName });
  });

  app.get("/admin", async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const page = parseIntParam(query.page, 1, 1, 1_000_000);
    if (page === null) return reject(request, reply, 400, ["page must be a positive integer"]);
    const data = await reader.list({
      limit: ADMIN_PAGE_SIZE,
      offset: (page - 1) * ADMIN_PAGE_SIZE,
    });
    return reply
      .type("text/html; charset=utf-8")
      .send(renderAdminPage(config.nodeName, { ...data, page, pageSize: ADMIN_PAGE_SIZE }));
  });

  app.get("/api/messages", async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const limit = parseIntParam(query.limit, 100, 1, 10000);
    const offset = parseIntParam(query.offset, 0, 0, 1_000_000_000);
    if (limit === null || offset === null) {
      return reject(request, reply, 400, ["limit must be 1-10000 and offset >= 0"]);
    }
    const data = await reader.list({ limit, offset });
    return reply.send({
      served_by: config.nodeName,
      total: data.total,
      limit,
      offset,
      messages: data.messages,
    });
  });

  // Liveness: the process serves HTTP. Nothing shared (Kafka, PostgreSQL) is checked here.
  app.get("/healthz", async (_request, reply) =>
    reply.send({ status: "ok", served_by: config.nodeName }),
  );

  // Readiness of this node: 503 only while it drains. Kafka and PostgreSQL are shared by every
  // node: their state is reported, never turned into "node not ready" (that would take all nodes
  // out at once while reads and the admin page still work).
  app.get("/readyz", async (_request, reply) => {
    const check = async (what: string, fn: () => Promise<void>): Promise<string> => {
      try {
        await withTimeout(fn(), CHECK_TIMEOUT_MS, what);
        return "ok";
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    };
    const [database, kafka] = await Promise.all([
      check("database", () => reader.ping()),
      check("kafka", () => publisher.ping()),
    ]);
    const consumer = deps.consumerRunning() ? "ok" : "not in the consumer group";
    const ready = !draining;
    return reply
      .code(ready ? 200 : 503)
      .send({ ready, served_by: config.nodeName, database, kafka, consumer, draining });
  });

  app.get("/metrics", async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  return app;
}

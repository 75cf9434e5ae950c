/** Malformed submissions: each must be refused with the given status and nothing produced. */
import type { AppProcess } from "../support/app-process";

export interface BadInput {
  name: string;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
  status: number;
}

const json = (name: string, value: unknown, headers?: Record<string, string>): BadInput => ({
  name,
  contentType: "application/json",
  body: JSON.stringify(value),
  status: 400,
  ...(headers ? { headers } : {}),
});

const form = (name: string, body: string): BadInput => ({
  name,
  contentType: "application/x-www-form-urlencoded",
  body,
  status: 400,
});

export const BAD_INPUTS: BadInput[] = [
  json("empty object", {}),
  json("empty body", { body: "" }),
  json("blank body", { body: "   \n\t " }),
  json("number body", { body: 123 }),
  json("null body", { body: null }),
  json("array body", { body: ["a"] }),
  json("object body", { body: { text: "a" } }),
  json("boolean body", { body: true }),
  json("body over 2000 characters", { body: "x".repeat(2001) }),
  json("control character", { body: "a\u0000b" }),
  json("escape character", { body: "bell\u0007" }),
  json("unknown extra field", { body: "ok", extra: 1 }),
  json("wrong field case", { Body: "ok" }),
  json("top-level array", ["ok"]),
  json("top-level string", "ok"),
  json("top-level null", null),
  { name: "truncated JSON", contentType: "application/json", body: '{"body":', status: 400 },
  { name: "plain text", contentType: "text/plain", body: "hello", status: 400 },
  { name: "XML", contentType: "application/xml", body: "<body>hi</body>", status: 415 },
  {
    name: "request over MAX_BODY_BYTES",
    contentType: "application/json",
    body: JSON.stringify({ body: "y".repeat(1000), pad: "z".repeat(20000) }),
    status: 413,
  },
  json("short idempotency key", { body: "ok" }, { "idempotency-key": "abc" }),
  json("idempotency key with spaces", { body: "ok" }, { "idempotency-key": "bad key with spaces" }),
  json(
    "header and field keys differ",
    { body: "ok", idempotency_key: "field-key-0001" },
    { "idempotency-key": "header-key-0001" },
  ),
  json("numeric idempotency_key", { body: "ok", idempotency_key: 12345678 }),
  form("form without body", "idempotency_key=abcdefgh-1234"),
  form("form with empty body", "body="),
  form("form with unknown field", "body=hi&note=x"),
];

export async function sendBadInput(
  app: AppProcess,
  bad: BadInput,
): Promise<{ status: number; servedBy: string | null }> {
  const response = await fetch(`${app.url}/messages`, {
    method: "POST",
    headers: { "content-type": bad.contentType, ...bad.headers },
    body: bad.body,
    signal: AbortSignal.timeout(10000),
  });
  await response.arrayBuffer();
  return { status: response.status, servedBy: response.headers.get("x-served-by") };
}

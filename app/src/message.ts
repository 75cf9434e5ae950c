/** Validation of submitted input and the Kafka message payload, both ways. Pure functions. */

export const MAX_BODY_CHARS = 2000;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;
// Control characters other than tab, newline and carriage return.
const FORBIDDEN_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const ALLOWED_FIELDS = new Set(["body", "idempotency_key"]);

export interface Submission {
  body: string;
  idempotencyKey?: string;
}

/** The JSON value of every Kafka record on the topic. */
export interface MessagePayload {
  message_uid: string;
  timestamp: string;
  hostname: string;
  body: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; errors: string[] };

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * Validates a POST /messages body (parsed JSON or form fields) and the optional Idempotency-Key
 * header. Unknown fields are errors, so a typo never silently drops data.
 */
export function validateSubmission(input: unknown, headerKey?: string): Result<Submission> {
  const errors: string[] = [];
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, errors: [`request body must be an object (got ${describe(input)})`] };
  }
  const fields = input as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (!ALLOWED_FIELDS.has(name)) errors.push(`unknown field "${name.slice(0, 64)}"`);
  }

  const body = fields.body;
  if (body === undefined) {
    errors.push("body is required");
  } else if (typeof body !== "string") {
    errors.push(`body must be a string (got ${describe(body)})`);
  } else if (body.trim() === "") {
    errors.push("body must not be empty");
  } else if ([...body].length > MAX_BODY_CHARS) {
    errors.push(`body must be at most ${MAX_BODY_CHARS} characters (got ${[...body].length})`);
  } else if (FORBIDDEN_CHARS.test(body)) {
    errors.push("body must not contain control characters");
  }

  const fieldKey = fields.idempotency_key;
  let key: string | undefined;
  if (fieldKey !== undefined && typeof fieldKey !== "string") {
    errors.push(`idempotency_key must be a string (got ${describe(fieldKey)})`);
  } else {
    key = fieldKey === "" ? undefined : fieldKey;
  }
  if (headerKey !== undefined) {
    if (key !== undefined && key !== headerKey) {
      errors.push("Idempotency-Key header and idempotency_key field differ");
    }
    key = headerKey;
  }
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    errors.push("idempotency key must be 8-128 characters of A-Z a-z 0-9 . _ : -");
  }

  if (errors.length > 0) return { ok: false, errors };
  const submission: Submission = { body: (body as string).trim() };
  if (key !== undefined) submission.idempotencyKey = key;
  return { ok: true, value: submission };
}

export function buildPayload(
  submission: Submission,
  ctx: { nodeName: string; now: Date; newUid: () => string },
): MessagePayload {
  return {
    message_uid: submission.idempotencyKey ?? ctx.newUid(),
    timestamp: ctx.now.toISOString(),
    hostname: ctx.nodeName,
    body: submission.body,
  };
}

/** Parses a consumed record value; anything malformed is reported, never stored. */
export function parsePayload(value: string | Buffer | undefined): Result<MessagePayload> {
  if (value === undefined) return { ok: false, errors: ["record has no value"] };
  let data: unknown;
  try {
    data = JSON.parse(typeof value === "string" ? value : value.toString("utf8"));
  } catch {
    return { ok: false, errors: ["record value is not JSON"] };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, errors: [`record value must be an object (got ${describe(data)})`] };
  }
  const d = data as Record<string, unknown>;
  const errors: string[] = [];
  for (const name of ["message_uid", "timestamp", "hostname", "body"] as const) {
    if (typeof d[name] !== "string" || d[name] === "")
      errors.push(`${name} must be a non-empty string`);
  }
  if (typeof d.message_uid === "string" && d.message_uid.length > 128) {
    errors.push("message_uid is longer than 128 characters");
  }
  if (typeof d.timestamp === "string" && Number.isNaN(Date.parse(d.timestamp))) {
    errors.push(`timestamp is not a date (got "${d.timestamp.slice(0, 40)}")`);
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      message_uid: d.message_uid as string,
      timestamp: d.timestamp as string,
      hostname: d.hostname as string,
      body: d.body as string,
    },
  };
}

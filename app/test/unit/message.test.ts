import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildPayload, parsePayload, validateSubmission } from "../../src/message";

function errorsOf(input: unknown, header?: string): string[] {
  const result = validateSubmission(input, header);
  assert.equal(result.ok, false, `expected ${JSON.stringify(input)} to be rejected`);
  return result.ok ? [] : result.errors;
}

describe("validateSubmission", () => {
  it("accepts a body and trims it", () => {
    assert.deepEqual(validateSubmission({ body: "  hello \n" }), {
      ok: true,
      value: { body: "hello" },
    });
  });

  it("takes the idempotency key from the header or the form field", () => {
    const fromHeader = validateSubmission({ body: "x" }, "client-key-0001");
    assert.deepEqual(fromHeader, {
      ok: true,
      value: { body: "x", idempotencyKey: "client-key-0001" },
    });
    const fromField = validateSubmission({ body: "x", idempotency_key: "form-key-0001" });
    assert.deepEqual(fromField, {
      ok: true,
      value: { body: "x", idempotencyKey: "form-key-0001" },
    });
    const same = validateSubmission(
      { body: "x", idempotency_key: "same-key-0001" },
      "same-key-0001",
    );
    assert.equal(same.ok, true);
  });

  it("counts characters, not UTF-16 units, against the limit", () => {
    assert.equal(validateSubmission({ body: "😀".repeat(2000) }).ok, true);
    assert.deepEqual(errorsOf({ body: "😀".repeat(2001) }), [
      "body must be at most 2000 characters (got 2001)",
    ]);
  });

  const cases: [string, unknown, RegExp][] = [
    ["missing body", {}, /body is required/],
    ["number", { body: 1 }, /body must be a string \(got number\)/],
    ["null", { body: null }, /got null/],
    ["array", { body: [] }, /got array/],
    ["blank", { body: " \t" }, /must not be empty/],
    ["NUL", { body: "a\u0000" }, /control characters/],
    ["unknown field", { body: "x", other: 1 }, /unknown field "other"/],
    ["not an object", "text", /request body must be an object \(got string\)/],
    ["short key", { body: "x", idempotency_key: "short" }, /idempotency key must be 8-128/],
    ["non-string key", { body: "x", idempotency_key: 5 }, /idempotency_key must be a string/],
  ];
  for (const [name, input, message] of cases) {
    it(`rejects ${name}`, () => {
      assert.match(errorsOf(input).join("; "), message);
    });
  }

  it("rejects a header key that differs from the field key", () => {
    assert.match(
      errorsOf({ body: "x", idempotency_key: "field-key-0001" }, "header-key-0001").join(),
      /differ/,
    );
  });

  it("reports every problem at once", () => {
    assert.equal(errorsOf({ body: 5, extra: true, idempotency_key: "bad key!" }).length, 3);
  });
});

describe("buildPayload / parsePayload", () => {
  const ctx = {
    nodeName: "webserver2",
    now: new Date("2026-01-02T03:04:05.678Z"),
    newUid: () => "generated-uid",
  };

  it("builds the paper's {message_uid, timestamp, hostname, body}", () => {
    assert.deepEqual(buildPayload({ body: "hi" }, ctx), {
      message_uid: "generated-uid",
      timestamp: "2026-01-02T03:04:05.678Z",
      hostname: "webserver2",
      body: "hi",
    });
  });

  it("uses the client's idempotency key as message_uid", () => {
    assert.equal(
      buildPayload({ body: "hi", idempotencyKey: "client-key-1" }, ctx).message_uid,
      "client-key-1",
    );
  });

  it("round-trips through JSON", () => {
    const payload = buildPayload({ body: "hi" }, ctx);
    assert.deepEqual(parsePayload(Buffer.from(JSON.stringify(payload))), {
      ok: true,
      value: payload,
    });
  });

  it("rejects malformed records", () => {
    assert.equal(parsePayload(undefined).ok, false);
    assert.equal(parsePayload("{").ok, false);
    assert.equal(parsePayload("[]").ok, false);
    assert.equal(
      parsePayload(JSON.stringify({ message_uid: "a", timestamp: "x", hostname: "h", body: "b" }))
        .ok,
      false,
    );
    assert.equal(
      parsePayload(JSON.stringify({ message_uid: "a", hostname: "h", body: "b" })).ok,
      false,
    );
  });
});

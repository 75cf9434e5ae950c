import { createHash, createHmac } from "crypto";

export function sha256Hex(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

function framed(parts: readonly string[]): string {
  return parts.map((p) => `${p.length}:${p}`).join("\n");
}

/** The trigger of a Command: one digest over everything that defines what it does. */
export function commandTrigger(...parts: string[]): string {
  return sha256Hex(framed(parts));
}

/**
 * The trigger of a Command whose script carries secrets: an HMAC-SHA256 keyed with a secret of
 * the stack, so the (non-secret) trigger changes exactly when the script changes yet reveals
 * nothing of it, even of a low-entropy secret, to someone who reads the state or a diff.
 */
export function keyedCommandTrigger(key: string, ...parts: string[]): string {
  return `hmac-sha256:${createHmac("sha256", key).update(framed(parts)).digest("hex")}`;
}

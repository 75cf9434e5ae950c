import { createHash } from "crypto";

export function sha256Hex(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The trigger of a Command: one digest over everything that defines what it does. */
export function commandTrigger(...parts: string[]): string {
  return sha256Hex(parts.map((p) => `${p.length}:${p}`).join("\n"));
}

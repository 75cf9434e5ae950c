import { randomBytes, randomUUID } from "crypto";
import type { SandboxContext } from "./context";
import type { Performed } from "./monitor";

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";

function pick(alphabet: string, count: number): string[] {
  return [...randomBytes(count)].map((b) => alphabet[b % alphabet.length]);
}

/** A password with at least one lower, upper and digit, and the special characters only if asked. */
export function generatePassword(length: number, specials: string): string {
  if (!Number.isInteger(length) || length < 4 || length > 1024) {
    throw new Error(`RandomPassword length out of range: ${length}`);
  }
  const all = LOWER + UPPER + DIGITS + specials;
  const chars = [
    ...pick(LOWER, 1),
    ...pick(UPPER, 1),
    ...pick(DIGITS, 1),
    ...pick(all, length - 3),
  ];
  // Fisher-Yates with crypto bytes, so the guaranteed classes are not always in front.
  const order = randomBytes(chars.length);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = order[i] % (i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join("");
}

export async function performRandomPassword(
  _ctx: SandboxContext,
  name: string,
  inputs: Record<string, unknown>,
): Promise<Performed> {
  const length = Number(inputs.length ?? 16);
  const special = inputs.special !== false;
  const specials = special ? String(inputs.overrideSpecial ?? "!#$%&*()-_=+[]{}<>:?") : "";
  const result = generatePassword(length, specials);
  return { id: name, outputs: { ...inputs, result } };
}

export async function performRandomUuid(
  _ctx: SandboxContext,
  name: string,
  inputs: Record<string, unknown>,
): Promise<Performed> {
  return { id: name, outputs: { ...inputs, result: randomUUID() } };
}

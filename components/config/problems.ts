/** How a value appears in an error message; secrets never reach this. */
export function shown(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** Every problem of a configuration, each naming the key and the bad value. */
export class Problems {
  readonly list: string[] = [];
  add(key: string, problem: string, value: unknown): void {
    this.list.push(`${key}: ${problem} (got ${shown(value)})`);
  }
  /** A problem whose text names its keys and values itself. */
  addText(text: string): void {
    this.list.push(text);
  }
}

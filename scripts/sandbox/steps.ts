/** Progress output: one line per step with its duration. */
export function logLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

export async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  logLine(`==> ${title}`);
  try {
    const result = await fn();
    logLine(`    done: ${title} (${seconds(started)} s)`);
    return result;
  } catch (e) {
    logLine(`    FAILED: ${title} (${seconds(started)} s)`);
    throw e;
  }
}

export function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

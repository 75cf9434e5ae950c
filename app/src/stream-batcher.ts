import type { Readable } from "node:stream";

/**
 * Collects a flowing stream's messages into batches of at most `max`. The stream is paused while
 * a full batch waits (backpressure) and resumed when the batch is taken.
 */
export class StreamBatcher<T> {
  private buffer: T[] = [];
  private paused = false;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: Readable,
    private readonly max: number,
  ) {
    stream.on("data", (item: T) => {
      this.buffer.push(item);
      if (this.buffer.length >= this.max && !this.paused) {
        this.paused = true;
        stream.pause();
      }
      this.notify();
    });
    stream.once("error", (error: Error) => {
      this.failure = error;
      this.notify();
    });
    const onEnd = (): void => {
      this.ended = true;
      this.notify();
    };
    stream.once("end", onEnd);
    stream.once("close", onEnd);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Up to `max` messages once at least one is there; null when the stream ended or on abort. */
  async next(signal: AbortSignal): Promise<T[] | null> {
    while (this.buffer.length === 0) {
      if (this.failure) throw this.failure;
      if (this.ended || signal.aborted) return null;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        this.wake = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
    const batch = this.buffer.splice(0, this.max);
    if (this.paused && this.buffer.length < this.max) {
      this.paused = false;
      this.stream.resume();
    }
    return batch;
  }
}

/**
 * Coalesces concurrent single-item calls into one batch call: items wait at most `lingerMs` (or
 * until `maxItems` are queued), then one `flush(items)` runs and settles every caller with its
 * outcome. Used to put the records of concurrent HTTP requests into one Kafka produce request.
 */
export class MicroBatcher<T> {
  private queue: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly flushBatch: (items: T[]) => Promise<void>,
    private readonly opts: { lingerMs: number; maxItems: number },
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.opts.maxItems) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.lingerMs);
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    this.flushBatch(batch.map((p) => p.item)).then(
      () => batch.forEach((p) => p.resolve()),
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    );
  }
}

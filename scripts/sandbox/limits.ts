/** A counting semaphore and a keyed mutex, to bound parallel work in containers. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async use<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const mine = previous.then(fn, fn);
    this.tails.set(
      key,
      mine.catch(() => undefined),
    );
    return mine;
  }
}

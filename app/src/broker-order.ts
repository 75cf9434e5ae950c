/**
 * Which bootstrap broker the Kafka client should ask first. The client sends every metadata
 * request to the first bootstrap broker that accepts a connection; a broker that is cut off but
 * still accepts connections (or whose packets are silently dropped until the connect timeout)
 * would stall each metadata refresh, and with it the move to a new partition leader. Brokers whose
 * connection dropped recently go last.
 */
export class BrokerOrder {
  private readonly suspectSince = new Map<string, number>();

  constructor(
    private readonly brokers: readonly string[],
    private readonly suspectForMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A connection to `broker` dropped or failed (a request timed out, a reset, a refused connect). */
  suspect(broker: string): void {
    if (this.brokers.includes(broker)) this.suspectSince.set(broker, this.now());
  }

  /** `broker` answered a request after all: it goes back among the healthy ones. */
  clear(broker: string): void {
    this.suspectSince.delete(broker);
  }

  /** True while `broker` is suspected (its connection dropped less than suspectForMs ago). */
  isSuspect(broker: string): boolean {
    return this.since(broker, this.now()) !== undefined;
  }

  /** True while any configured broker is suspected. */
  hasSuspects(): boolean {
    return this.brokers.some((b) => this.isSuspect(b));
  }

  private since(broker: string, now: number): number | undefined {
    const at = this.suspectSince.get(broker);
    return at !== undefined && now - at < this.suspectForMs ? at : undefined;
  }

  /** Brokers in configuration order, the recently suspected ones last (oldest suspicion first). */
  order(): string[] {
    const now = this.now();
    const since = (b: string): number | undefined => this.since(b, now);
    const healthy = this.brokers.filter((b) => since(b) === undefined);
    const suspects = this.brokers
      .filter((b) => since(b) !== undefined)
      .sort((a, b) => (since(a) as number) - (since(b) as number));
    return [...healthy, ...suspects];
  }
}

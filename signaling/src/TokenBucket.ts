export interface TokenBucketOptions {
  /** Tokens available at once (the burst a client may send without waiting). */
  capacity: number;
  /** Tokens added back per second, up to capacity. */
  refillPerSecond: number;
  /** Milliseconds clock; injectable so tests need no timers. */
  now?: () => number;
}

/** A token bucket: take() spends tokens if there are enough, refilling lazily from the clock. */
export class TokenBucket {
  readonly #capacity: number;
  readonly #refillPerMs: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;

  constructor({ capacity, refillPerSecond, now = performance.now.bind(performance) }: TokenBucketOptions) {
    if (!(capacity > 0)) throw new TypeError(`capacity must be > 0, got ${capacity}`);
    if (!(refillPerSecond > 0)) throw new TypeError(`refillPerSecond must be > 0, got ${refillPerSecond}`);
    this.#capacity = capacity;
    this.#refillPerMs = refillPerSecond / 1000;
    this.#now = now;
    this.#tokens = capacity;
    this.#updatedAt = now();
  }

  /** Spends `cost` tokens and returns true, or returns false and spends nothing. */
  take(cost = 1): boolean {
    this.#refill();
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }

  /** How long until `cost` tokens are available (0 if they are now). */
  msUntil(cost = 1): number {
    this.#refill();
    return this.#tokens >= cost ? 0 : Math.ceil((cost - this.#tokens) / this.#refillPerMs);
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#updatedAt) * this.#refillPerMs);
    this.#updatedAt = now;
  }
}

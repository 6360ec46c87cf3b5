/** What a full queue does with one more item. */
export type OverflowPolicy =
  /** Drop the oldest queued item (audio towards an engine: latency beats completeness). */
  | 'dropOldest'
  /** Fail the queue: the consumer sees QueueOverflowError (results towards a stuck consumer). */
  | 'error';

export interface AsyncQueueOptions {
  /** Most items held at once; at least 1. */
  limit: number;
  overflow: OverflowPolicy;
  /** Called once when the consumer stops early (break / return()), so the producer can release its source. */
  onReturn?: () => void;
  /** Called with each item dropped by 'dropOldest'. */
  onDrop?: () => void;
}

export class QueueOverflowError extends Error {
  constructor(readonly limit: number) {
    super(`queue overflow: more than ${limit} items pending; the consumer is not keeping up`);
    this.name = new.target.name;
  }
}

/**
 * A bounded single-consumer queue read by async iteration. The producer calls push(), end() or
 * fail(); the consumer's iteration ends after the last item once end() was called, or throws the
 * error given to fail() after the items queued before it.
 */
// T excludes undefined so that shift() returning undefined means 'empty'.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export class AsyncQueue<T extends {}> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  readonly #limit: number;
  readonly #overflow: OverflowPolicy;
  readonly #onReturn: (() => void) | undefined;
  readonly #onDrop: (() => void) | undefined;
  #ended = false;
  #error: unknown = undefined;
  #failed = false;
  #returned = false;
  #waiter: ((result: IteratorResult<T>) => void) | undefined;
  #waiterReject: ((err: unknown) => void) | undefined;

  constructor({ limit, overflow, onReturn, onDrop }: AsyncQueueOptions) {
    if (!Number.isInteger(limit) || limit < 1) throw new TypeError(`AsyncQueue: limit must be an integer >= 1 (got ${limit})`);
    this.#limit = limit;
    this.#overflow = overflow;
    this.#onReturn = onReturn;
    this.#onDrop = onDrop;
  }

  /** Items waiting for the consumer. */
  get size(): number {
    return this.#items.length;
  }

  /** True once end() or fail() was called, or the consumer stopped. */
  get closed(): boolean {
    return this.#ended || this.#failed || this.#returned;
  }

  /** Queues `item`; ignored once the queue is closed. Returns false when the item was not queued. */
  push(item: T): boolean {
    if (this.closed) return false;
    const waiter = this.#waiter;
    if (waiter) {
      this.#clearWaiter();
      waiter({ value: item, done: false });
      return true;
    }
    if (this.#items.length >= this.#limit) {
      if (this.#overflow === 'error') {
        this.fail(new QueueOverflowError(this.#limit));
        return false;
      }
      this.#items.shift();
      this.#onDrop?.();
    }
    this.#items.push(item);
    return true;
  }

  /** No more items: iteration ends once the queued ones are read. Idempotent. */
  end(): void {
    if (this.closed) return;
    this.#ended = true;
    const waiter = this.#waiter;
    if (waiter) {
      this.#clearWaiter();
      waiter({ value: undefined, done: true });
    }
  }

  /** Iteration throws `err` once the queued items are read. Idempotent; ignored after end(). */
  fail(err: unknown): void {
    if (this.closed) return;
    this.#failed = true;
    this.#error = err;
    const reject = this.#waiterReject;
    if (reject) {
      this.#clearWaiter();
      reject(err);
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.#failed) {
      // Report the error once; later calls see a finished iterator.
      const err = this.#error;
      this.#error = undefined;
      this.#failed = false;
      this.#ended = true;
      return Promise.reject(err);
    }
    if (this.#ended || this.#returned) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter) return Promise.reject(new Error('AsyncQueue: next() called while a previous next() is pending'));
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#waiterReject = reject;
    });
  }

  /** The consumer stopped early: drop what is queued and tell the producer. */
  return(): Promise<IteratorResult<T>> {
    if (!this.#returned) {
      this.#returned = true;
      this.#items.length = 0;
      const waiter = this.#waiter;
      if (waiter) {
        this.#clearWaiter();
        waiter({ value: undefined, done: true });
      }
      this.#onReturn?.();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  #clearWaiter(): void {
    this.#waiter = undefined;
    this.#waiterReject = undefined;
  }
}

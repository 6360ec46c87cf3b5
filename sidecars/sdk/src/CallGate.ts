import { QuotaExceededError, UnavailableError } from '../../../core/src/errors.js';

/** One admitted call. release() is idempotent; `signal` aborts when the worker cancels the call. */
export interface CallTicket {
  readonly signal: AbortSignal;
  release(): void;
}

/**
 * Admission of calls: at most `maxStreams` at once (0: no limit), none once closed. Keeps the
 * count that the worker announces and lets shutdown wait for the calls in flight.
 */
export class CallGate {
  readonly #maxStreams: number;
  readonly #tickets = new Map<CallTicket, AbortController>();
  readonly #idleWaiters: (() => void)[] = [];
  #closed = false;

  constructor(maxStreams: number) {
    if (!Number.isInteger(maxStreams) || maxStreams < 0) {
      throw new TypeError(`CallGate: maxStreams must be an integer >= 0 (got ${maxStreams})`);
    }
    this.#maxStreams = maxStreams;
  }

  get maxStreams(): number {
    return this.#maxStreams;
  }

  get active(): number {
    return this.#tickets.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Admits a call or throws: UnavailableError once closed, QuotaExceededError when full. */
  enter(): CallTicket {
    if (this.#closed) {
      throw new UnavailableError('this worker is shutting down; retry on another worker');
    }
    if (this.#maxStreams > 0 && this.#tickets.size >= this.#maxStreams) {
      throw new QuotaExceededError(
        `this worker already serves its maximum of ${this.#maxStreams} concurrent calls; retry on another worker or later`,
      );
    }
    const controller = new AbortController();
    const ticket: CallTicket = {
      signal: controller.signal,
      release: () => {
        if (!this.#tickets.delete(ticket)) return;
        if (this.#tickets.size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      },
    };
    this.#tickets.set(ticket, controller);
    return ticket;
  }

  /** Admits nothing more. Idempotent. */
  close(): void {
    this.#closed = true;
  }

  /** Resolves once no call is in flight. */
  idle(): Promise<void> {
    if (this.#tickets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Aborts every call in flight with `reason`; each call's owner then releases its ticket. */
  abortAll(reason: Error): void {
    for (const controller of this.#tickets.values()) controller.abort(reason);
  }
}

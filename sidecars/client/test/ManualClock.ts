import type { Clock } from '../src/Clock.js';

interface Timer {
  id: number;
  dueAt: number;
  ms: number;
  fn: () => void;
  claimed: boolean;
}

/**
 * A Clock that moves only when the test calls advance(): timeouts, backoff and breaker cooldowns
 * run without a single real wait. nextTimer() lets a test wait for the code under test to
 * schedule something (an event, not a sleep) before advancing.
 */
export class ManualClock implements Clock {
  #now = 1_000_000;
  #nextId = 0;
  readonly #timers = new Map<number, Timer>();
  #waiters: { match: (ms: number) => boolean; resolve: (ms: number) => void }[] = [];

  now(): number {
    return this.#now;
  }

  schedule(fn: () => void, ms: number): () => void {
    const timer: Timer = { id: this.#nextId++, dueAt: this.#now + ms, ms, fn, claimed: false };
    this.#timers.set(timer.id, timer);
    const waiter = this.#waiters.find((w) => w.match(ms));
    if (waiter) {
      timer.claimed = true;
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      waiter.resolve(ms);
    }
    return () => this.#timers.delete(timer.id);
  }

  /** Resolves with the duration of the next timer scheduled (or already pending, unclaimed) that matches. */
  nextTimer(match: (ms: number) => boolean = () => true): Promise<number> {
    const pending = [...this.#timers.values()].find((t) => !t.claimed && match(t.ms));
    if (pending) {
      pending.claimed = true;
      return Promise.resolve(pending.ms);
    }
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  /** Moves time forward, running every timer that falls due, in order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.values()].filter((t) => t.dueAt <= until).sort((a, b) => a.dueAt - b.dueAt || a.id - b.id)[0];
      if (!due) break;
      this.#timers.delete(due.id);
      this.#now = due.dueAt;
      due.fn();
    }
    this.#now = until;
  }
}

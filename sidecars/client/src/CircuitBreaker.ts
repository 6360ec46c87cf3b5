import type { Clock } from './Clock.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** Time the breaker stays open before it lets one probe call through. */
  cooldownMs: number;
  clock: Clock;
  /** Observer for metrics and logs; never drives control flow. */
  onStateChange?: (state: BreakerState) => void;
}

/**
 * A consecutive-failure circuit breaker for one engine.
 *
 * closed -> open after `failureThreshold` failures in a row (a success resets the count);
 * open -> half-open once `cooldownMs` has passed, admitting exactly one probe call;
 * half-open -> closed when the probe succeeds, back to open (a new cooldown) when it fails.
 * Callers take a permit with tryAcquire() before each call and report its outcome; `release()`
 * reports an outcome that says nothing about the engine's health (the caller gave up).
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #clock: Clock;
  readonly #onStateChange: ((state: BreakerState) => void) | undefined;
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probeInFlight = false;

  constructor({ failureThreshold, cooldownMs, clock, onStateChange }: CircuitBreakerOptions) {
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1) throw new TypeError(`failureThreshold must be a positive integer (got ${failureThreshold})`);
    if (!(cooldownMs >= 0)) throw new TypeError(`cooldownMs must be >= 0 (got ${cooldownMs})`);
    this.#threshold = failureThreshold;
    this.#cooldownMs = cooldownMs;
    this.#clock = clock;
    this.#onStateChange = onStateChange;
  }

  /** The state as of now: an open breaker whose cooldown is over reads as half-open. */
  get state(): BreakerState {
    if (this.#state === 'open' && this.#clock.now() - this.#openedAt >= this.#cooldownMs) return 'half-open';
    return this.#state;
  }

  /** Whether a call would be admitted now (no permit taken). */
  get admits(): boolean {
    const state = this.state;
    return state === 'closed' || (state === 'half-open' && !this.#probeInFlight);
  }

  /** Takes a permit for one call, or returns false when the breaker rejects it. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#probeInFlight) return false;
    this.#set('half-open');
    this.#probeInFlight = true;
    return true;
  }

  onSuccess(): void {
    this.#failures = 0;
    this.#probeInFlight = false;
    this.#set('closed');
  }

  onFailure(): void {
    this.#probeInFlight = false;
    if (this.#state === 'half-open' || ++this.#failures >= this.#threshold) {
      this.#failures = 0;
      this.#openedAt = this.#clock.now();
      this.#set('open');
    }
  }

  /** Gives back a permit whose call ended without telling anything about the engine. */
  release(): void {
    this.#probeInFlight = false;
  }

  #set(state: BreakerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#onStateChange?.(state);
  }
}

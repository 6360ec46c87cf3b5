import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { TranslateRequest, TranslateResponse__Output } from '../../../proto/src/index.js';
import {
  CancelledError,
  fromServiceError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PolyglotError,
  QuotaExceededError,
  TimeoutError,
  UnavailableError,
} from '../../sdk/src/index.js';
import { CircuitBreaker } from './CircuitBreaker.js';
import { sleep, type Clock } from './Clock.js';
import { retryDelayMs } from './retryDelay.js';
import type { FallbackReason, TranslationMetrics } from './TranslationMetrics.js';
import { TranslatorChannels } from './TranslatorChannels.js';
import type { PickedTranslator } from './WorkerDirectory.js';

/** Retry and timeout knobs of one engine call, grouped (STYLE §7). */
export interface EngineCallOptions {
  /** Deadline of each attempt. */
  timeoutMs: number;
  /** Extra attempts after the first, for retryable errors only. */
  maxRetries: number;
  /** Backoff before retry n (0-based) is drawn from [cap/2, cap), cap = min(maxDelayMs, baseDelayMs * 2^n) (retryDelayMs). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_ENGINE_CALL: EngineCallOptions = { timeoutMs: 2_000, maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1_000 };

export interface BreakerOptions {
  /** Consecutive failed calls (timeouts, unavailable, quota, internal) that open an engine's breaker. */
  failureThreshold: number;
  /** How long an open breaker skips the engine before one probe call may try it again. */
  cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 5, cooldownMs: 30_000 };

export interface EngineCallerOptions {
  call?: Partial<EngineCallOptions>;
  breaker?: Partial<BreakerOptions>;
  metrics: TranslationMetrics;
  clock: Clock;
  /** Jitter source for backoff, in [0, 1). */
  random?: () => number;
  /** Credentials of worker channels; plaintext by default (workers sit on the private network). */
  credentials?: grpc.ChannelCredentials;
  /** Told about a worker that answered UNAVAILABLE or not in time, so later picks avoid it. */
  onWorkerFailure?: (workerId: string) => void;
  log: Logger;
}

/** One answer per (text, target) of the request, checked against it. */
export interface EngineTranslation {
  textIndex: number;
  target: string;
  text: string;
  engine: string;
}

export type EngineCallResult = { ok: true; translations: EngineTranslation[] } | { ok: false; error: PolyglotError; reason: FallbackReason };

/** Added to the gRPC deadline beyond our own timeout, so the worker learns it but our timer decides. */
const DEADLINE_GRACE_MS = 1_000;

/**
 * Translate calls to workers, each made resilient on its own: a deadline (our clock decides), retries
 * only on retryable errors with exponential backoff and jitter (a RESOURCE_EXHAUSTED's retry-after is
 * honoured up to the backoff cap), one circuit breaker per engine, and one reused gRPC channel per
 * worker address (TranslatorChannels, S-1). A call either answers every (text, target) of its
 * request or fails with the error and the reason the router records for its fallback.
 */
export class EngineCaller {
  readonly #call: EngineCallOptions;
  readonly #breakerOptions: BreakerOptions;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #channels: TranslatorChannels;
  readonly #metrics: TranslationMetrics;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #onWorkerFailure: ((workerId: string) => void) | undefined;
  readonly #log: Logger;

  constructor(opts: EngineCallerOptions) {
    this.#call = { ...DEFAULT_ENGINE_CALL, ...opts.call };
    this.#breakerOptions = { ...DEFAULT_BREAKER, ...opts.breaker };
    for (const [key, value] of Object.entries(this.#call)) {
      if (!Number.isFinite(value) || value < 0) throw new TypeError(`call.${key} must be a number >= 0 (got ${value})`);
    }
    this.#channels = new TranslatorChannels(opts.credentials);
    this.#metrics = opts.metrics;
    this.#clock = opts.clock;
    this.#random = opts.random ?? Math.random;
    this.#onWorkerFailure = opts.onWorkerFailure;
    this.#log = opts.log;
  }

  /** Whether the engine's breaker would admit a call now. */
  admits(engine: string): boolean {
    return this.#breaker(engine).admits;
  }

  /** Number of worker channels open, one per address used. */
  get channelsForTesting(): number {
    return this.#channels.sizeForTesting;
  }

  /**
   * Calls `worker` of `engine` with retries. Resolves with the outcome; rejects only with
   * CancelledError when `signal` aborts.
   */
  async translate(engine: string, worker: PickedTranslator, wire: TranslateRequest, signal?: AbortSignal): Promise<EngineCallResult> {
    const breaker = this.#breaker(engine);
    let last: { error: PolyglotError; reason: FallbackReason } | undefined;
    for (let attempt = 0; ; attempt++) {
      if (!breaker.tryAcquire()) return last ? { ok: false, ...last } : { ok: false, error: new UnavailableError(`${engine}: circuit breaker open`), reason: 'breaker_open' };
      let response: TranslateResponse__Output;
      try {
        response = await this.#callOnce(engine, worker, wire, signal);
      } catch (e) {
        const error = PolyglotError.is(e) ? e : new InternalError(String(e), e);
        if (signal?.aborted) {
          breaker.release();
          throw new CancelledError('translation cancelled by the caller', signal.reason);
        }
        const reason = reasonOf(error);
        this.#metrics.engineCalls.inc({ engine, outcome: reason });
        // Retryable failures and broken answers say the engine is unwell; a NOT_FOUND or
        // INVALID_ARGUMENT says the engine answered (the request was the problem).
        if (error.retryable || error instanceof InternalError) breaker.onFailure();
        else breaker.onSuccess();
        // This worker, not necessarily its engine, may be gone: let the registry steer later picks away.
        if ((error instanceof UnavailableError || error instanceof TimeoutError) && worker.id !== undefined) this.#onWorkerFailure?.(worker.id);
        last = { error, reason };
        if (!error.retryable || attempt >= this.#call.maxRetries) return { ok: false, ...last };
        const retryAfterMs = error instanceof QuotaExceededError ? (error.retryAfterMs ?? 0) : 0;
        // Waiting longer than our own backoff cap would stall live captions: fall back instead.
        if (retryAfterMs > this.#call.maxDelayMs) return { ok: false, ...last };
        await sleep(this.#clock, Math.max(retryAfterMs, retryDelayMs(attempt, this.#call, this.#random)), signal).catch((err: unknown) => {
          throw new CancelledError('translation cancelled by the caller', err);
        });
        continue;
      }
      breaker.onSuccess();
      this.#metrics.engineCalls.inc({ engine, outcome: 'ok' });
      const decoded = decodeResponse(response, wire.texts?.length ?? 0, wire.targetLanguages ?? [], engine);
      if (decoded instanceof PolyglotError) {
        breaker.onFailure();
        return { ok: false, error: decoded, reason: 'internal' };
      }
      return { ok: true, translations: decoded };
    }
  }

  #callOnce(engine: string, worker: PickedTranslator, wire: TranslateRequest, signal: AbortSignal | undefined): Promise<TranslateResponse__Output> {
    const { address } = worker;
    const client = this.#channels.get(address, worker.tls);
    const timeoutMs = this.#call.timeoutMs;
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const onAbort = () => call.cancel();
      const call = client.translate(wire, { deadline: Date.now() + timeoutMs + DEADLINE_GRACE_MS }, (err, response) => {
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        if (timedOut) return reject(new TimeoutError(`${engine} at ${address}: no answer within ${timeoutMs} ms`, err));
        if (err) return reject(fromServiceError(err));
        if (response === undefined) return reject(new InternalError(`${engine} at ${address}: empty answer`));
        resolve(response);
      });
      // Our clock, not the gRPC deadline, decides the timeout: tests drive it, and it cancels the call.
      const cancelTimer = this.#clock.schedule(() => {
        timedOut = true;
        call.cancel();
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #breaker(engine: string): CircuitBreaker {
    let breaker = this.#breakers.get(engine);
    if (breaker === undefined) {
      breaker = new CircuitBreaker({
        ...this.#breakerOptions,
        clock: this.#clock,
        onStateChange: (state) => {
          this.#metrics.breakerChanged(engine, state);
          if (state === 'open') this.#log.warn({ engine, cooldownMs: this.#breakerOptions.cooldownMs }, 'translation engine circuit opened');
          else this.#log.info({ engine, state }, 'translation engine circuit changed');
        },
      });
      this.#breakers.set(engine, breaker);
    }
    return breaker;
  }

  close(): void {
    this.#channels.close();
  }
}

function reasonOf(error: PolyglotError): FallbackReason {
  if (error instanceof TimeoutError) return 'timeout';
  if (error instanceof UnavailableError) return 'unavailable';
  if (error instanceof QuotaExceededError) return 'quota';
  if (error instanceof NotFoundError) return 'not_found';
  if (error instanceof InvalidArgumentError) return 'invalid_argument';
  return 'internal';
}

/** Checks a worker's answer covers every (text, target) exactly as the contract says. */
function decodeResponse(response: TranslateResponse__Output, textCount: number, targets: readonly string[], engine: string): EngineTranslation[] | PolyglotError {
  const seen = new Set<string>();
  const out: EngineTranslation[] = [];
  for (const r of response.results) {
    if (r.textIndex >= textCount || !targets.includes(r.targetLanguage)) return new InternalError(`${engine}: answer for an unknown text or target`);
    seen.add(`${r.textIndex}\n${r.targetLanguage}`);
    out.push({ textIndex: r.textIndex, target: r.targetLanguage, text: r.text, engine: r.engine || engine });
  }
  if (seen.size !== textCount * targets.length) return new InternalError(`${engine}: ${seen.size} translations for ${textCount * targets.length} pairs`);
  return out;
}

import { Counter, Gauge, type Registry } from 'prom-client';
import type { BreakerState } from './CircuitBreaker.js';

/** Why a translation left an engine for the next one in its chain. */
export type FallbackReason =
  | 'timeout'
  | 'unavailable'
  | 'quota'
  | 'breaker_open'
  | 'not_found'
  | 'invalid_argument'
  | 'internal'
  | 'no_worker';

/** The translation client's Prometheus metrics, registered on the registry the process exposes on /metrics. */
export class TranslationMetrics {
  readonly fallbacks: Counter<'engine' | 'reason'>;
  readonly cache: Counter<'result'>;
  readonly engineCalls: Counter<'engine' | 'outcome'>;
  readonly breakerOpen: Gauge<'engine'>;

  constructor(registry: Registry) {
    this.fallbacks = new Counter({
      name: 'pc_translation_fallbacks_total',
      help: 'Translations that left an engine for the next one in the chain, by engine left and reason.',
      labelNames: ['engine', 'reason'],
      registers: [registry],
    });
    this.cache = new Counter({
      name: 'pc_translation_cache_total',
      help: 'Translation cache lookups per (text, target), by result (hit, miss).',
      labelNames: ['result'],
      registers: [registry],
    });
    this.engineCalls = new Counter({
      name: 'pc_translation_engine_calls_total',
      help: 'Translate calls to workers (each attempt), by engine and outcome (ok or an error reason).',
      labelNames: ['engine', 'outcome'],
      registers: [registry],
    });
    this.breakerOpen = new Gauge({
      name: 'pc_translation_breaker_open',
      help: '1 while the circuit breaker of an engine rejects calls (open or half-open), else 0.',
      labelNames: ['engine'],
      registers: [registry],
    });
  }

  breakerChanged(engine: string, state: BreakerState): void {
    this.breakerOpen.set({ engine }, state === 'closed' ? 0 : 1);
  }
}

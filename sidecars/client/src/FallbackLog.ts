import type { Logger } from 'pino';
import type { PolyglotError } from '../../sdk/src/index.js';
import type { FallbackReason, TranslationMetrics } from './TranslationMetrics.js';

/**
 * Fallbacks of one translate() call, merged per (engine, reason): each is counted and logged once,
 * however many targets or batches it concerned.
 */
export class FallbackLog {
  readonly #entries = new Map<string, { engine: string; reason: FallbackReason; targets: Set<string>; error: PolyglotError | undefined }>();

  note(engine: string, reason: FallbackReason, targets: readonly string[], error?: PolyglotError): void {
    const key = `${engine}\n${reason}`;
    const entry = this.#entries.get(key) ?? { engine, reason, targets: new Set<string>(), error };
    for (const t of targets) entry.targets.add(t);
    this.#entries.set(key, entry);
  }

  flush(metrics: TranslationMetrics, logger: Logger, requestId: string): void {
    for (const { engine, reason, targets, error } of this.#entries.values()) {
      metrics.fallbacks.inc({ engine, reason });
      const fields = { engine, reason, targets: [...targets], requestId, ...(error ? { err: error } : {}) };
      // An open breaker or a missing worker was already reported when it happened (breaker state, registry).
      if (reason === 'breaker_open' || reason === 'no_worker') logger.debug(fields, 'translation engine skipped');
      else logger.warn(fields, 'translation engine failed, falling back');
    }
    this.#entries.clear();
  }
}

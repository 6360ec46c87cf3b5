import type { TranslatedText, TranslationEngine } from '../../sidecars/sdk/src/index.js';

/**
 * A translation engine that accepts every call and never answers, not even when the call is
 * cancelled: a worker hung on a dead provider connection. The client's timeout is all that ends
 * such a call.
 */
export class StalledTranslationEngine implements TranslationEngine {
  readonly name = 'stalled';
  readonly pairs = [{ source: 'en', target: 'es' }];
  readonly maxStreams = 0;
  /** Calls received (for the test's own log line). */
  calls = 0;

  translate(): Promise<TranslatedText[]> {
    this.calls += 1;
    return new Promise<never>(() => undefined);
  }

  async close(): Promise<void> {}
}

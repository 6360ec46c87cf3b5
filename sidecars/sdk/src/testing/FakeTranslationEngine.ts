import { UnavailableError, type PolyglotError } from '../../../../core/src/errors.js';
import { SafeEmitter } from '../../../../core/src/events.js';
import type { LanguagePair, TranslatedText, TranslationEngine, TranslationRequest } from '../TranslationEngine.js';

export interface FakeTranslationEngineOptions {
  name?: string;
  pairs?: LanguagePair[];
  maxStreams?: number;
}

/**
 * A deterministic TranslationEngine for tests: "hello" into "fr" is "[fr] hello", with glossary
 * terms replaced by their target terms first. Records every request; calls can be held until
 * release() (to fill the worker's slots) or failed with failNext().
 */
export class FakeTranslationEngine implements TranslationEngine {
  readonly name: string;
  readonly pairs: readonly LanguagePair[];
  readonly maxStreams: number;
  readonly requests: TranslationRequest[] = [];
  /** 'request' fires as each call reaches the engine (before any hold). */
  readonly observer = new SafeEmitter<{ request: [TranslationRequest] }>();
  closed = false;
  #held: (() => void)[] | undefined;
  #failNext: PolyglotError | undefined;

  constructor({ name = 'fake-mt', pairs = [{ source: 'en', target: 'fr' }, { source: 'en', target: 'de' }], maxStreams = 0 }: FakeTranslationEngineOptions = {}) {
    this.name = name;
    this.pairs = pairs;
    this.maxStreams = maxStreams;
  }

  /** From now on, calls wait until release(). */
  hold(): void {
    this.#held ??= [];
  }

  /** Lets every held call (and later ones) through. */
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const go of held) go();
  }

  /** Calls waiting in hold(). */
  get heldCalls(): number {
    return this.#held?.length ?? 0;
  }

  /** The next call fails with `err`. */
  failNext(err: PolyglotError = new UnavailableError('fake engine down')): void {
    this.#failNext = err;
  }

  async translate(request: TranslationRequest, signal: AbortSignal): Promise<TranslatedText[]> {
    this.requests.push(request);
    this.observer.safeEmit('request', request);
    if (this.#held) {
      const held = this.#held;
      await new Promise<void>((resolve, reject) => {
        held.push(resolve);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const failure = this.#failNext;
    this.#failNext = undefined;
    if (failure) throw failure;
    return request.targets.flatMap((target) => {
      const glossary = request.glossaries.find((g) => g.target === target);
      return request.texts.map((text, textIndex) => {
        let out = text;
        for (const entry of glossary?.entries ?? []) out = out.split(entry.sourceTerm).join(entry.targetTerm);
        return { textIndex, target, text: `[${target}] ${out}`, engine: this.name };
      });
    });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

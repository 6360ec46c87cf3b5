import type { LanguageLimits } from '../../core/src/config.js';
import { LanguageRefusedError } from './errors.js';

/** Where the languages a deployment serves come from when the operator sets no allow list. */
export interface TranslationOffer {
  offers(source: string, target: string): boolean;
}

export interface LanguagePolicyOptions {
  limits: LanguageLimits;
  /** The translation workers' pairs (OfferedLanguages); unused with an allow list. */
  offered: TranslationOffer | undefined;
}

/**
 * Which caption language a viewer may pick: the session's source language, or a language the
 * deployment can translate it into (the operator's allow list when set, the translation workers'
 * announced pairs otherwise), and no more than `maxPerSession` languages per session. Tags arrive
 * canonical (protocol decoders); every answer comes from memory.
 */
export class LanguagePolicy {
  readonly #limits: LanguageLimits;
  readonly #allowed: ReadonlySet<string> | undefined;
  readonly #offered: TranslationOffer | undefined;

  constructor({ limits, offered }: LanguagePolicyOptions) {
    if (!Number.isInteger(limits.maxPerSession) || limits.maxPerSession < 1) throw new TypeError(`maxPerSession must be a positive integer, got ${limits.maxPerSession}`);
    if (limits.allowed === undefined && offered === undefined) throw new TypeError('a language policy needs an allow list or the offered languages');
    this.#limits = limits;
    this.#allowed = limits.allowed && new Set(limits.allowed);
    this.#offered = offered;
  }

  get maxPerSession(): number {
    return this.#limits.maxPerSession;
  }

  /**
   * Throws LanguageRefusedError unless a viewer of a session in `source` may read `lang`, given the
   * languages the session's viewers read now (`current`, on every node).
   */
  check(source: string, lang: string, current: Iterable<string>): void {
    if (lang === source) return;
    if (this.#allowed ? !this.#allowed.has(lang) : !this.#offered?.offers(source, lang)) {
      throw new LanguageRefusedError(`captions in ${lang} are not available for this session (spoken in ${source})`, 'unsupported_language');
    }
    const others = new Set(current);
    others.delete(source);
    if (!others.has(lang) && others.size >= this.#limits.maxPerSession) {
      throw new LanguageRefusedError(`this session already has captions in ${others.size} languages, its limit; pick one of those`, 'language_limit');
    }
  }
}

import { Translator } from 'deepl-node';
import type { Logger } from 'pino';
import {
  abortable,
  InternalError,
  NotFoundError,
  UnavailableError,
  type LanguagePair,
  type TranslatedText,
  type TranslationEngine,
  type TranslationRequest,
} from '../../sdk/src/index.js';
import { fromDeepLError } from './_deeplErrors.js';
import { DeepLGlossaries } from './DeepLGlossaries.js';
import { DEFAULT_REGIONAL, deeplSource, deeplTarget, type RegionalDefaults } from './languages.js';

export interface DeepLEngineOptions {
  /** DeepL API key; keys ending in `:fx` are free-plan keys (deepl-node picks the free endpoint). */
  authKey: string;
  /** Overrides the API endpoint (stand-ins, DeepL Pro regional endpoints). */
  serverUrl?: string;
  /** Languages (BCP-47) translated between, in every direction. */
  languages: readonly string[];
  /** Which variant a bare `en` / `pt` target means (DeepL refuses the bare codes as targets). */
  regional?: RegionalDefaults;
  /** Translate calls served at once (the worker answers RESOURCE_EXHAUSTED beyond); 0: no limit. */
  maxStreams?: number;
  /** Per-HTTP-request timeout inside deepl-node; the caller's deadline normally aborts sooner. */
  requestTimeoutMs?: number;
  /** Prefix of the glossary names this deployment creates. */
  glossaryPrefix?: string;
  /** The worker's logger (the `log` runWorker passes to main's start callback); the engine binds its name. */
  log: Logger;
}

/**
 * DeepL behind the TranslationEngine interface: one /v2/translate request per target language with
 * every text of the request (S-5), all targets in parallel.
 *
 * deepl-node never retries here (maxRetries 0): the translation client retries across engines and
 * a second retry layer would multiply failover time (STYLE §4). Its HTTP agents are keep-alive
 * (deepl-node's module-level axios instance), so requests reuse connections (S-1).
 */
export class DeepLEngine implements TranslationEngine {
  readonly name = 'deepl';
  readonly pairs: readonly LanguagePair[];
  readonly maxStreams: number;
  readonly #translator: Translator;
  readonly #glossaries: DeepLGlossaries;
  readonly #regional: RegionalDefaults;
  readonly #log: Logger;
  #closed = false;

  constructor({
    authKey,
    serverUrl,
    languages,
    regional = DEFAULT_REGIONAL,
    maxStreams = 32,
    requestTimeoutMs = 10_000,
    glossaryPrefix = 'pc',
    log: parentLog,
  }: DeepLEngineOptions) {
    if (!authKey) throw new TypeError('authKey is required');
    if (languages.length < 2) throw new TypeError('languages needs at least two entries');
    for (const tag of languages) {
      if (deeplSource(tag) === undefined || deeplTarget(tag, regional) === undefined) throw new TypeError(`DeepL does not translate ${tag}`);
    }
    if (!Number.isInteger(maxStreams) || maxStreams < 0) throw new TypeError(`maxStreams must be an integer >= 0 (got ${maxStreams})`);
    this.maxStreams = maxStreams;
    this.pairs = languages.flatMap((source) => languages.filter((target) => target !== source).map((target) => ({ source, target })));
    this.#translator = new Translator(authKey, { ...(serverUrl ? { serverUrl } : {}), maxRetries: 0, minTimeout: requestTimeoutMs, sendPlatformInfo: false });
    this.#regional = regional;
    this.#log = parentLog.child({ engine: this.name });
    this.#glossaries = new DeepLGlossaries({ translator: this.#translator, namePrefix: glossaryPrefix, log: this.#log });
  }

  async translate(request: TranslationRequest, signal: AbortSignal): Promise<TranslatedText[]> {
    if (this.#closed) throw new UnavailableError('deepl engine closed');
    const perTarget = await abortable(
      Promise.all(request.targets.map((target) => this.#translateInto(request, target))),
      signal,
    );
    return perTarget.flat();
  }

  async #translateInto(request: TranslationRequest, target: string, glossaryRetried = false): Promise<TranslatedText[]> {
    const { texts, source } = request;
    const result = (textIndex: number, text: string): TranslatedText => ({ textIndex, target, text, engine: this.name });
    if (source.toLowerCase() === target.toLowerCase()) return texts.map((text, i) => result(i, text));
    const sourceCode = deeplSource(source);
    const targetCode = deeplTarget(target, this.#regional);
    if (sourceCode === undefined || targetCode === undefined) throw new NotFoundError(`deepl does not translate ${source}->${target}`);
    // DeepL rejects empty texts; the contract says an empty text translates to an empty text.
    const indexes = texts.flatMap((text, i) => (text.length > 0 ? [i] : []));
    const out = texts.map((text, i) => result(i, text));
    if (indexes.length === 0) return out;
    const glossary = request.glossaries.find((g) => g.target === target && g.entries.length > 0);
    const glossaryId = glossary ? await this.#glossaries.idFor(glossary) : undefined;
    let translated;
    try {
      translated = await this.#translator.translateText(
        indexes.map((i) => texts[i] ?? ''),
        sourceCode,
        targetCode,
        glossaryId ? { glossary: glossaryId } : {},
      );
    } catch (err) {
      const mapped = fromDeepLError(err, `deepl translate ${source}->${target}`);
      if (glossary && mapped instanceof NotFoundError && !glossaryRetried) {
        // The glossary was deleted behind our back (by hand, or by another worker's clean-up of old
        // versions): recreate it once. /v2/translate answers 404 only for an unknown glossary.
        this.#glossaries.forget(glossary);
        return this.#translateInto(request, target, true);
      }
      throw mapped;
    }
    if (translated.length !== indexes.length) {
      throw new InternalError(`deepl returned ${translated.length} translations for ${indexes.length} texts`);
    }
    indexes.forEach((textIndex, k) => {
      out[textIndex] = result(textIndex, translated[k]?.text ?? '');
    });
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#glossaries.drain();
  }
}

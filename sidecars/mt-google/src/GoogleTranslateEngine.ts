import { TranslationServiceClient } from '@google-cloud/translate';
import type { Logger } from 'pino';
import {
  abortable,
  fromServiceError,
  InternalError,
  NotFoundError,
  UnavailableError,
  type Glossary,
  type LanguagePair,
  type TranslatedText,
  type TranslationEngine,
  type TranslationRequest,
} from '../../sdk/src/index.js';

/** TranslationServiceClient's own options type (google-gax ClientOptions), without depending on google-gax directly. */
export type GoogleClientOptions = NonNullable<ConstructorParameters<typeof TranslationServiceClient>[0]>;

export interface GoogleTranslateEngineOptions {
  /** Google Cloud project that is billed. */
  projectId: string;
  /** Regional location; glossaries cannot live in `global`, so the default is a region. */
  location?: string;
  /** Languages (BCP-47) translated between, in every direction. */
  languages: readonly string[];
  /**
   * Passed to TranslationServiceClient: credentials (`credentials`, `keyFilename`, `apiKey`) and,
   * for stand-ins, `apiEndpoint`/`port`/`sslCreds`. Keep `universeDomain` set so the client never
   * probes the metadata server.
   */
  clientOptions?: GoogleClientOptions;
  /** Translate calls served at once (the worker answers RESOURCE_EXHAUSTED beyond); 0: no limit. */
  maxStreams?: number;
  /** Backstop per provider call; the caller's deadline normally aborts sooner. */
  callTimeoutMs?: number;
  /** Prefix of the Google glossary ids this deployment provisions (see glossaryId()). */
  glossaryPrefix?: string;
  /** The worker's logger (the `log` runWorker passes to main's start callback); the engine binds its name. */
  log: Logger;
}

/**
 * Google Cloud Translation v3 behind the TranslationEngine interface: one TranslateText call per
 * target language carrying every text of the request (S-5), all targets in parallel.
 *
 * Glossaries: v3 only translates with glossary *resources*, which Google imports from a Cloud
 * Storage file (CreateGlossary takes no inline entries). This engine therefore names the resource
 * after (org, pair, version), see glossaryId(), and relies on it being provisioned; a missing one
 * is NOT_FOUND, which the translation client treats as "fall back to the next engine" (DeepL
 * creates its glossaries inline), never as "translate without the glossary".
 */
export class GoogleTranslateEngine implements TranslationEngine {
  readonly name = 'google';
  readonly pairs: readonly LanguagePair[];
  readonly maxStreams: number;
  readonly #client: TranslationServiceClient;
  readonly #parent: string;
  readonly #callTimeoutMs: number;
  readonly #glossaryPrefix: string;
  readonly #log: Logger;
  #closed = false;

  constructor({
    projectId,
    location = 'us-central1',
    languages,
    clientOptions = {},
    maxStreams = 64,
    callTimeoutMs = 10_000,
    glossaryPrefix = 'pc',
    log: parentLog,
  }: GoogleTranslateEngineOptions) {
    if (!projectId) throw new TypeError('projectId is required');
    if (languages.length < 2) throw new TypeError('languages needs at least two entries');
    this.pairs = languages.flatMap((source) => languages.filter((target) => target !== source).map((target) => ({ source, target })));
    if (!Number.isInteger(maxStreams) || maxStreams < 0) throw new TypeError(`maxStreams must be an integer >= 0 (got ${maxStreams})`);
    this.maxStreams = maxStreams;
    this.#client = new TranslationServiceClient({ projectId, ...clientOptions });
    this.#parent = `projects/${projectId}/locations/${location}`;
    this.#callTimeoutMs = callTimeoutMs;
    this.#glossaryPrefix = glossaryPrefix;
    this.#log = parentLog.child({ engine: this.name });
  }

  /** Full resource name of the Google glossary for one glossary version. */
  glossaryName(glossary: Glossary): string {
    return `${this.#parent}/glossaries/${glossaryId(this.#glossaryPrefix, glossary)}`;
  }

  async translate(request: TranslationRequest, signal: AbortSignal): Promise<TranslatedText[]> {
    if (this.#closed) throw new UnavailableError('google engine closed');
    const perTarget = await abortable(
      Promise.all(request.targets.map((target) => this.#translateInto(request, target))),
      signal,
    );
    return perTarget.flat();
  }

  async #translateInto(request: TranslationRequest, target: string): Promise<TranslatedText[]> {
    const { texts, source } = request;
    const result = (textIndex: number, text: string): TranslatedText => ({ textIndex, target, text, engine: this.name });
    if (sameLanguage(source, target)) return texts.map((text, i) => result(i, text));
    // Google rejects empty contents; the contract says an empty text translates to an empty text.
    const indexes = texts.flatMap((text, i) => (text.length > 0 ? [i] : []));
    const out = texts.map((text, i) => result(i, text));
    if (indexes.length === 0) return out;
    const glossary = request.glossaries.find((g) => g.target === target && g.entries.length > 0);
    let response;
    try {
      [response] = await this.#client.translateText(
        {
          parent: this.#parent,
          contents: indexes.map((i) => texts[i] ?? ''),
          mimeType: 'text/plain',
          sourceLanguageCode: source,
          targetLanguageCode: target,
          ...(glossary ? { glossaryConfig: { glossary: this.glossaryName(glossary), ignoreCase: true } } : {}),
        },
        { timeout: this.#callTimeoutMs },
      );
    } catch (err) {
      throw fromServiceError(err, `google translateText ${source}->${target}`);
    }
    // With a glossary Google returns both; glossaryTranslations is the one that applied it.
    const translations = glossary ? response.glossaryTranslations : response.translations;
    if (!translations || translations.length !== indexes.length) {
      throw new InternalError(`google returned ${translations?.length ?? 0} translations for ${indexes.length} texts`);
    }
    indexes.forEach((textIndex, k) => {
      out[textIndex] = result(textIndex, translations[k]?.translatedText ?? '');
    });
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
    this.#log.debug('closed');
  }
}

/** Google glossary ids allow lowercase letters, digits, `-` and `_`, up to 100 characters. */
export function glossaryId(prefix: string, g: Glossary): string {
  const id = `${prefix}-${g.orgId}-${g.source}-${g.target}-v${g.version}`.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  if (id.length > 100) throw new NotFoundError(`glossary id too long for google: ${id}`);
  return id;
}

function sameLanguage(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

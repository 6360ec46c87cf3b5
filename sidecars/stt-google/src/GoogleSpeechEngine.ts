import { SpeechClient } from '@google-cloud/speech';
import type { Logger } from 'pino';
import {
  acceptsLanguage,
  NotFoundError,
  QuotaExceededError,
  UnavailableError,
  type SpeechEngine,
  type SpeechStream,
  type SpeechStreamConfig,
} from '../../sdk/src/index.js';
import { DEFAULT_ROTATION, GoogleSpeechStream, SYSTEM_TIMERS, validateRotation, type RotationOptions, type SpeechTimers } from './GoogleSpeechStream.js';

/** SpeechClient's own options type (google-gax ClientOptions), without depending on google-gax directly. */
export type GoogleSpeechClientOptions = NonNullable<ConstructorParameters<typeof SpeechClient>[0]>;

export interface GoogleSpeechEngineOptions {
  /** BCP-47 tags served (Google `languageCode`s). */
  languages: readonly string[];
  /** Concurrent streams; Google's default quota is 300 concurrent streaming requests per project. */
  maxStreams?: number;
  /**
   * Passed to SpeechClient: `projectId`, credentials, and for stand-ins `apiEndpoint`/`port`/
   * `sslCreds`. Keep `universeDomain` set so the client never probes the metadata server.
   */
  clientOptions?: GoogleSpeechClientOptions;
  /** Google recognition model (`latest_long`, `telephony`...); Google's default when unset. */
  model?: string;
  rotation?: Partial<RotationOptions>;
  timers?: SpeechTimers;
  /** The worker's logger (the `log` runWorker passes to main's start callback); the engine binds its name. */
  log: Logger;
}

/**
 * Google Cloud Speech-to-Text v1 streaming recognition behind the SpeechEngine interface. One
 * SpeechClient (one gRPC channel, HTTP/2-multiplexed) serves every stream of the process (S-1);
 * each stream rotates its provider calls before Google's 5-minute limit (GoogleSpeechStream).
 */
export class GoogleSpeechEngine implements SpeechEngine {
  readonly name = 'google';
  readonly languages: readonly string[];
  readonly maxStreams: number;
  readonly #client: SpeechClient;
  readonly #rotation: RotationOptions;
  readonly #timers: SpeechTimers;
  readonly #model: string | undefined;
  readonly #log: Logger;
  readonly #streams = new Set<GoogleSpeechStream>();
  #closed = false;

  constructor({ languages, maxStreams = 50, clientOptions = {}, model, rotation = {}, timers = SYSTEM_TIMERS, log: parentLog }: GoogleSpeechEngineOptions) {
    if (languages.length === 0) throw new TypeError('languages must not be empty');
    if (!Number.isInteger(maxStreams) || maxStreams < 1) throw new TypeError(`maxStreams must be a positive integer (got ${maxStreams})`);
    this.languages = [...languages];
    this.maxStreams = maxStreams;
    this.#client = new SpeechClient(clientOptions);
    this.#rotation = { ...DEFAULT_ROTATION, ...rotation };
    validateRotation(this.#rotation);
    this.#timers = timers;
    this.#model = model;
    this.#log = parentLog.child({ engine: this.name });
  }

  openStream(config: SpeechStreamConfig, signal: AbortSignal): SpeechStream {
    if (this.#closed) throw new UnavailableError('google speech engine closed');
    if (!acceptsLanguage(this.languages, config.language)) throw new NotFoundError(`google speech does not serve ${config.language} here`);
    if (this.#streams.size >= this.maxStreams) throw new QuotaExceededError(`google speech already serves ${this.maxStreams} streams`);
    const stream = new GoogleSpeechStream({
      client: this.#client,
      config,
      signal,
      rotation: this.#rotation,
      timers: this.#timers,
      model: this.#model,
      log: this.#log.child({ sessionId: config.sessionId, trackId: config.trackId }),
      onClose: () => this.#streams.delete(stream),
    });
    this.#streams.add(stream);
    return stream;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const stream of this.#streams) stream.close();
    this.#streams.clear();
    await this.#client.close();
  }
}

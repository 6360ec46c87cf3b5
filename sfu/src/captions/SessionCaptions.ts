import type { JetStreamManager, NatsConnection } from 'nats';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { DemandWatcher } from '../../../core/src/captions/DemandWatcher.js';
import { tryCanonicalLanguageTag } from '../../../core/src/languages/languageTag.js';
import type { Database } from '../../../sql/src/index.js';
import type { SessionMedia } from '../SessionMedia.js';
import { AudioTap } from './AudioTap.js';
import { CaptionPipeline, type CaptionPipelineMetrics, type CaptionTranslator, type SpeechSource } from './CaptionPipeline.js';
import { CaptionPublisher } from '../../../core/src/captions/CaptionPublisher.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CaptionDeps {
  nc: NatsConnection;
  jsm: JetStreamManager;
  db: Kysely<Database>;
  translator: CaptionTranslator;
  openSpeech: (config: { sessionId: string; trackId: string; orgId: string; language: string }) => SpeechSource;
  metrics: CaptionPipelineMetrics;
  /** See CaptionPipelineOptions.maxLanguages. */
  maxLanguages?: number;
  log: Logger;
}

/**
 * The captions of one session on this SFU node: one CaptionPipeline per audio producer, sharing
 * the session's language demand and caption publisher. The session's organization and source
 * language come from Postgres once, when its first producer appears.
 */
export class SessionCaptions {
  readonly #media: SessionMedia;
  readonly #deps: CaptionDeps;
  readonly #log: Logger;
  readonly #pipelines = new Map<string, Promise<CaptionPipeline | undefined>>();
  #shared: Promise<{ demand: DemandWatcher; publisher: CaptionPublisher; session: { id: string; orgId: string; sourceLanguage: string } } | undefined> | undefined;
  #closed = false;

  constructor(media: SessionMedia, deps: CaptionDeps) {
    this.#media = media;
    this.#deps = deps;
    this.#log = deps.log.child({ sessionId: media.session });
    media.on('produceradded', ({ producerId, peer, kind }) => {
      if (kind === 'audio') this.#start(producerId, peer);
    });
    media.on('producerclosed', ({ producerId }) => this.#stop(producerId));
    media.observer.once('close', () => void this.close());
    for (const { producerId, peer, kind } of media.listProducers()) if (kind === 'audio') this.#start(producerId, peer);
  }

  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  #sharedParts() {
    this.#shared ??= (async () => {
      const id = this.#media.session;
      const row = UUID.test(id)
        ? await this.#deps.db.selectFrom('sessions').select(['organization_id', 'source_language']).where('id', '=', id).executeTakeFirst()
        : undefined;
      if (!row) {
        this.#log.warn('session is not in the database: no captions for it');
        return undefined;
      }
      // The database domain is looser than the platform's tags (case): the spoken language is
      // canonicalized here, where it enters the pipeline, so its captions share the viewers' streams.
      const sourceLanguage = tryCanonicalLanguageTag(row.source_language);
      if (sourceLanguage === undefined) {
        this.#log.warn({ sourceLanguage: row.source_language }, 'the session\'s language is not a usable language tag: no captions for it');
        return undefined;
      }
      const demand = await DemandWatcher.open(this.#deps.nc, id, this.#deps.log);
      const publisher = new CaptionPublisher({ nc: this.#deps.nc, jsm: this.#deps.jsm, session: id, log: this.#log });
      return { demand, publisher, session: { id, orgId: row.organization_id, sourceLanguage } };
    })();
    return this.#shared;
  }

  #start(producerId: string, peer: string): void {
    if (this.#closed || this.#pipelines.has(producerId)) return;
    const started = (async () => {
      const shared = await this.#sharedParts();
      if (!shared || this.#closed) return undefined;
      const tap = await AudioTap.create({ media: this.#media, producerId, log: this.#log });
      const speech = this.#deps.openSpeech({ sessionId: shared.session.id, trackId: producerId, orgId: shared.session.orgId, language: shared.session.sourceLanguage });
      this.#log.info({ producerId, peer, language: shared.session.sourceLanguage }, 'captioning a new speaker');
      return new CaptionPipeline({
        ...shared,
        speakerName: peer,
        tap,
        speech,
        translator: this.#deps.translator,
        metrics: this.#deps.metrics,
        ...(this.#deps.maxLanguages === undefined ? {} : { maxLanguages: this.#deps.maxLanguages }),
        log: this.#log,
      });
    })();
    started.catch((err: unknown) => this.#log.error({ err, producerId }, 'captions could not start for this producer'));
    this.#pipelines.set(producerId, started);
  }

  #stop(producerId: string): void {
    const pipeline = this.#pipelines.get(producerId);
    this.#pipelines.delete(producerId);
    void pipeline?.then((p) => p?.close()).catch(() => undefined); // start failures are logged in #start
  }

  /** Idempotent: stops every pipeline and the demand watch. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pipelines = [...this.#pipelines.values()];
    this.#pipelines.clear();
    await Promise.allSettled(pipelines.map((p) => p.then((pipeline) => pipeline?.close())));
    const shared = await this.#shared?.catch(() => undefined);
    await shared?.demand.close();
  }
}

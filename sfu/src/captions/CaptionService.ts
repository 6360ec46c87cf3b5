import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { ensureCaptionStream, DEFAULT_CAPTION_STREAM } from '../../../core/src/captions/captionStream.js';
import type { Config } from '../../../core/src/config.js';
import { ResilientSpeechStream, TranslationClient, WorkerRegistry, type TranslationClientSettings } from '../../../sidecars/client/src/index.js';
import { createDb, GlossaryVersions } from '../../../sql/src/index.js';
import type { SfuNode } from '../SfuNode.js';
import type { CaptionTranslator } from './CaptionPipeline.js';
import { SessionCaptions } from './SessionCaptions.js';

export interface CaptionServiceOptions {
  nc: NatsConnection;
  node: SfuNode;
  cfg: Config;
  translation: TranslationClientSettings;
  /** The registry this process serves on /metrics. */
  metricsRegistry: Registry;
  log: Logger;
}

/**
 * Captions for every session of an SFU node: finds speech and translation workers through the
 * registry, translates through the TranslationClient (cache, breakers, fallback), and starts a
 * SessionCaptions for each session the node serves.
 */
export class CaptionService {
  readonly #registry: WorkerRegistry;
  readonly #redis: Redis;
  readonly #db: ReturnType<typeof createDb>;
  readonly #sessions = new Set<SessionCaptions>();
  #closed = false;

  private constructor(registry: WorkerRegistry, redis: Redis, db: ReturnType<typeof createDb>) {
    this.#registry = registry;
    this.#redis = redis;
    this.#db = db;
  }

  static async start({ nc, node, cfg, translation, metricsRegistry, log }: CaptionServiceOptions): Promise<CaptionService> {
    const jsm = await nc.jetstreamManager();
    await ensureCaptionStream(jsm, { ...DEFAULT_CAPTION_STREAM, maxAgeMs: cfg.captionRetentionMs });
    const { caFile, certFile, keyFile } = cfg.workerTls;
    const tls = caFile
      ? { ca: readFileSync(caFile), ...(certFile ? { cert: readFileSync(certFile) } : {}), ...(keyFile ? { key: readFileSync(keyFile) } : {}) }
      : undefined;
    const registry = await WorkerRegistry.start({ nats: nc, log, ...(tls ? { tls } : {}) });
    const redis = new Redis(cfg.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
    const db = createDb({ url: cfg.database.url, poolMax: Math.min(cfg.database.poolMax, 4), applicationName: 'sfu-captions', log });
    const client = new TranslationClient({ directory: registry, redis, registry: metricsRegistry, ...translation, log });
    const glossaries = new GlossaryVersions({ db, ttlMs: translation.glossaryVersionTtlMs });
    const translator: CaptionTranslator = {
      translate: async ({ texts, source, targets, orgId, kind }) =>
        client.translate({ texts, source, targets, orgId, purpose: 'live', skipCache: kind === 'interim', glossaries: await glossaries.forTargets(orgId, source, targets) }),
    };
    const metrics = {
      sttFinalSeconds: new Histogram({
        name: 'pc_caption_stt_final_seconds',
        help: 'End of speech (wall clock) to the final transcript arriving from the speech worker',
        buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8],
        registers: [metricsRegistry],
      }),
      translationSeconds: new Histogram({
        name: 'pc_caption_translation_seconds',
        help: 'Translation of one caption into every wanted language',
        labelNames: ['kind'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
        registers: [metricsRegistry],
      }),
      untranslatedFinals: new Counter({
        name: 'pc_caption_untranslated_finals_total',
        help: 'Finals that could not be translated into a wanted language, by language and reason (no_engine, engine_failed, language_limit, invalid_language)',
        labelNames: ['language', 'reason'],
        registers: [metricsRegistry],
      }),
    };
    const service = new CaptionService(registry, redis, db);
    node.observer.on('newsession', (media) => {
      if (service.#closed) return;
      const captions = new SessionCaptions(media, {
        nc,
        jsm,
        db,
        translator,
        metrics,
        maxLanguages: cfg.languages.maxPerSession,
        log,
        openSpeech: (config) => new ResilientSpeechStream({ registry, config: { ...config, interimResults: true }, log }),
      });
      service.#sessions.add(captions);
      media.observer.once('close', () => service.#sessions.delete(captions));
    });
    return service;
  }

  /** Idempotent: stops every session's captions, then the registry and the connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#sessions].map((s) => s.close()));
    this.#sessions.clear();
    this.#registry.close();
    this.#redis.disconnect();
    await this.#db.destroy();
  }
}

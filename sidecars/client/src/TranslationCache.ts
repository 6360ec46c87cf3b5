import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TranslationPurpose } from '../../sdk/src/index.js';

export interface CachedTranslation {
  text: string;
  engine: string;
}

export interface CacheKeyParts {
  source: string;
  target: string;
  orgId: string;
  /** 0 when no glossary applies to the pair. */
  glossaryVersion: number;
  text: string;
}

/** Seconds a cached translation lives, by purpose (seed S-3: 1 h live, 24 h documents and chat). */
export type CacheTtls = Record<TranslationPurpose, number>;

export const DEFAULT_CACHE_TTLS: CacheTtls = { live: 3_600, chat: 86_400, document: 86_400 };

export interface TranslationCacheOptions {
  redis: Redis;
  ttlSeconds?: CacheTtls;
  log: Logger;
}

/**
 * Translations in Redis under `pc:tr:{src}:{tgt}:{org}:{glossaryVersion}:{sha256(text)}`. The
 * glossary version is part of the key, so a glossary edit (which bumps the version in Postgres)
 * makes every older entry unreachable at once: nothing is deleted, old entries expire on their TTL
 * (S-3). One MGET per batch, one pipelined SET ... EX per batch of new translations.
 *
 * The cache only ever saves work: a Redis failure is logged and treated as a miss (reads) or
 * skipped (writes), never surfaced as a translation failure.
 */
export class TranslationCache {
  readonly #redis: Redis;
  readonly #ttl: CacheTtls;
  readonly #log: Logger;

  constructor({ redis, ttlSeconds = DEFAULT_CACHE_TTLS, log }: TranslationCacheOptions) {
    for (const [purpose, seconds] of Object.entries(ttlSeconds)) {
      if (!Number.isInteger(seconds) || seconds < 1) throw new TypeError(`ttlSeconds.${purpose} must be a positive integer (got ${seconds})`);
    }
    this.#redis = redis;
    this.#ttl = ttlSeconds;
    this.#log = log;
  }

  static key({ source, target, orgId, glossaryVersion, text }: CacheKeyParts): string {
    const hash = createHash('sha256').update(text, 'utf8').digest('hex');
    return `pc:tr:${source.toLowerCase()}:${target.toLowerCase()}:${orgId}:${glossaryVersion}:${hash}`;
  }

  async getMany(keys: readonly string[]): Promise<(CachedTranslation | undefined)[]> {
    if (keys.length === 0) return [];
    let values: (string | null)[];
    try {
      values = await this.#redis.mget(...keys);
    } catch (err) {
      this.#log.warn({ err, keys: keys.length }, 'translation cache read failed; translating without it');
      return keys.map(() => undefined);
    }
    return values.map((value) => (value === null ? undefined : decode(value)));
  }

  async setMany(entries: readonly { key: string; value: CachedTranslation }[], purpose: TranslationPurpose): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.#redis.pipeline();
    for (const { key, value } of entries) pipeline.set(key, JSON.stringify({ t: value.text, e: value.engine }), 'EX', this.#ttl[purpose]);
    try {
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err !== null);
      if (failed) throw failed[0];
    } catch (err) {
      this.#log.warn({ err, entries: entries.length }, 'translation cache write failed');
    }
  }
}

/** Cache values are ours, but Redis is a network boundary: decode, never cast (STYLE anti-pattern 4). */
function decode(raw: string): CachedTranslation | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const text: unknown = Reflect.get(value, 't');
  const engine: unknown = Reflect.get(value, 'e');
  return typeof text === 'string' && typeof engine === 'string' ? { text, engine } : undefined;
}

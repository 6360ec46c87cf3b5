import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { moduleLog } from '../../../core/src/log.js';
import { canonicalLanguageTag, tryCanonicalLanguageTag } from '../../../core/src/languages/languageTag.js';
import { MAX_TRANSLATE_TEXT_BYTES } from '../../../proto/src/index.js';
import { CancelledError, InvalidArgumentError, type Glossary, type TranslationPurpose } from '../../sdk/src/index.js';
import { SYSTEM_CLOCK, type Clock } from './Clock.js';
import { EngineCaller, type BreakerOptions, type EngineCallOptions } from './EngineCaller.js';
import { EngineRouter, type EngineChains, type TargetFailure } from './EngineRouter.js';
import { TranslationCache, type CacheTtls } from './TranslationCache.js';
import { TranslationMetrics } from './TranslationMetrics.js';
import type { WorkerDirectory } from './WorkerDirectory.js';

const log = moduleLog('TranslationClient');

export interface TranslationClientOptions {
  directory: WorkerDirectory;
  redis: Redis;
  /** Where the client's metrics are registered (the registry the process serves on /metrics). */
  registry: Registry;
  chains: EngineChains;
  call?: Partial<EngineCallOptions>;
  breaker?: Partial<BreakerOptions>;
  cacheTtlSeconds?: CacheTtls;
  clock?: Clock;
  /** Jitter source for backoff, in [0, 1). */
  random?: () => number;
  /** Credentials of worker channels; plaintext by default (workers sit on the private network). */
  credentials?: grpc.ChannelCredentials;
  log?: Logger;
}

export interface ClientTranslateRequest {
  texts: readonly string[];
  source: string;
  targets: readonly string[];
  orgId: string;
  purpose: TranslationPurpose;
  /** The current glossary of each target that has one (GlossaryVersions.forTargets in sql/); its version keys the cache. */
  glossaries?: readonly Glossary[];
  requestId?: string;
  /**
   * Neither read nor write the cache: interim captions, which are replaced a few hundred
   * milliseconds later and never asked for again, would only evict finals.
   */
  skipCache?: boolean;
}

export interface ClientTranslation {
  textIndex: number;
  target: string;
  text: string;
  engine: string;
  cached: boolean;
}

/**
 * Every (text, target) that was translated, and the targets no engine of their chain could serve
 * (or that are not language tags). Targets come back canonical and once each: `ES` and `es` in a
 * request are one target, `es`, translated once.
 */
export interface TranslateOutcome {
  translations: ClientTranslation[];
  failures: TargetFailure[];
}

interface Translated {
  text: string;
  engine: string;
  cached: boolean;
}

/**
 * The one way captions and chat translate text.
 *
 * 1. Cache first: one MGET for every (text, target); only misses go on (TranslationCache).
 * 2. The misses go to engines (EngineRouter: chains, fallback, one batched request per worker),
 *    each call resilient on its own (EngineCaller: deadline, retries on retryable errors, circuit
 *    breaker, reused channels).
 * 3. New translations are written back to the cache with the purpose's TTL.
 */
export class TranslationClient {
  readonly #cache: TranslationCache;
  readonly #metrics: TranslationMetrics;
  readonly #caller: EngineCaller;
  readonly #router: EngineRouter;
  #closed = false;

  constructor(opts: TranslationClientOptions) {
    const logger = opts.log ?? log;
    this.#metrics = new TranslationMetrics(opts.registry);
    this.#caller = new EngineCaller({
      call: opts.call,
      breaker: opts.breaker,
      metrics: this.#metrics,
      clock: opts.clock ?? SYSTEM_CLOCK,
      random: opts.random,
      credentials: opts.credentials,
      onWorkerFailure: opts.directory.reportFailure?.bind(opts.directory),
      log: logger,
    });
    this.#router = new EngineRouter({ directory: opts.directory, chains: opts.chains, caller: this.#caller, metrics: this.#metrics, log: logger });
    this.#cache = new TranslationCache({ redis: opts.redis, ttlSeconds: opts.cacheTtlSeconds, log: logger });
  }

  /** Number of worker channels open, one per address used. */
  get channelsForTesting(): number {
    return this.#caller.channelsForTesting;
  }

  /**
   * Rejects only for a malformed request (InvalidArgumentError) or when `signal` aborts
   * (CancelledError). A bad or unserved target is a failure of that target alone, and any number of
   * targets is split into calls within the contract's limit.
   */
  async translate(request: ClientTranslateRequest, signal?: AbortSignal): Promise<TranslateOutcome> {
    if (this.#closed) throw new CancelledError('translation client closed');
    const { texts, orgId, purpose } = request;
    const { source, targets, glossaryFor, invalid } = validate(request);
    const requestId = request.requestId ?? randomUUID();

    // The same text twice in a batch is translated and cached once.
    const unique: string[] = [];
    const uniqueOf = new Map<string, number>();
    const slotOf = texts.map((text) => {
      let slot = uniqueOf.get(text);
      if (slot === undefined) {
        slot = unique.push(text) - 1;
        uniqueOf.set(text, slot);
      }
      return slot;
    });

    const results = new Map<string, (Translated | undefined)[]>();
    const toTranslate = targets.filter((target) => {
      if (target.toLowerCase() !== source.toLowerCase()) return true;
      results.set(target, unique.map((text) => ({ text, engine: 'identity', cached: false })));
      return false;
    });

    const keyOf = (target: string, text: string) =>
      TranslationCache.key({ source, target, orgId, glossaryVersion: glossaryFor.get(target)?.version ?? 0, text });
    const keys = request.skipCache ? [] : toTranslate.flatMap((target) => unique.map((text) => keyOf(target, text)));
    const cached = await this.#cache.getMany(keys);
    const missing = new Map<string, number[]>();
    toTranslate.forEach((target, t) => {
      const row = unique.map((_, u): Translated | undefined => {
        const hit = cached[t * unique.length + u];
        return hit && { ...hit, cached: true };
      });
      results.set(target, row);
      const misses = row.flatMap((hit, u) => (hit ? [] : [u]));
      if (misses.length > 0) missing.set(target, misses);
    });
    const misses = [...missing.values()].reduce((n, m) => n + m.length, 0);
    if (!request.skipCache) {
      this.#metrics.cache.inc({ result: 'hit' }, keys.length - misses);
      this.#metrics.cache.inc({ result: 'miss' }, misses);
    }

    const { translated, failures } = await this.#router.translate({ texts: unique, source, orgId, purpose, requestId, missing, glossaryFor }, signal);
    for (const [target, list] of translated) {
      const row = results.get(target);
      for (const t of list) if (row) row[t.textIndex] = { text: t.text, engine: t.engine, cached: false };
    }

    const fresh: { key: string; value: { text: string; engine: string } }[] = [];
    for (const [target, row] of results) {
      if (!missing.has(target) || request.skipCache) continue;
      row.forEach((entry, u) => {
        const text = unique[u] ?? '';
        // An empty answer to a non-empty text is an engine fault: served once, never kept.
        if (entry && !entry.cached && (entry.text.trim() !== '' || text.trim() === '')) fresh.push({ key: keyOf(target, text), value: { text: entry.text, engine: entry.engine } });
      });
    }
    await this.#cache.setMany(fresh, purpose);

    failures.push(...invalid);
    const failed = new Set(failures.map((f) => f.target));
    const out: ClientTranslation[] = [];
    for (const target of targets) {
      if (failed.has(target)) continue;
      const row = results.get(target);
      slotOf.forEach((slot, textIndex) => {
        const entry = row?.[slot];
        if (entry) out.push({ textIndex, target, text: entry.text, engine: entry.engine, cached: entry.cached });
      });
    }
    return { translations: out, failures };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#caller.close();
  }
}

/** The request with canonical tags, each target once; a target that is no language tag becomes its own failure. */
function validate(request: ClientTranslateRequest): { source: string; targets: string[]; glossaryFor: Map<string, Glossary>; invalid: TargetFailure[] } {
  const { texts, orgId } = request;
  if (texts.length === 0) throw new InvalidArgumentError('texts is empty');
  if (!request.source) throw new InvalidArgumentError('source is empty');
  if (!orgId) throw new InvalidArgumentError('orgId is empty');
  if (request.targets.length === 0) throw new InvalidArgumentError('targets is empty');
  const source = canonicalLanguageTag(request.source);
  const targets = new Set<string>();
  const invalid: TargetFailure[] = [];
  for (const target of request.targets) {
    try {
      targets.add(canonicalLanguageTag(target));
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      invalid.push({ target, error: err, reason: 'invalid_language' });
    }
  }
  const glossaryFor = new Map<string, Glossary>();
  for (const g of request.glossaries ?? []) {
    const target = tryCanonicalLanguageTag(g.target);
    if (target === undefined || !targets.has(target)) throw new InvalidArgumentError(`glossary for ${g.target}, which is not a target`);
    if (glossaryFor.has(target)) throw new InvalidArgumentError(`two glossaries for ${target}`);
    glossaryFor.set(target, { ...g, target });
  }
  for (const text of texts) {
    if (Buffer.byteLength(text, 'utf8') > MAX_TRANSLATE_TEXT_BYTES) throw new InvalidArgumentError(`a text is longer than ${MAX_TRANSLATE_TEXT_BYTES} bytes`);
  }
  return { source, targets: [...targets], glossaryFor, invalid };
}

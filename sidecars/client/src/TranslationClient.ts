import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { moduleLog } from '../../../core/src/log.js';
import {
  MAX_TARGET_LANGUAGES,
  MAX_TRANSLATE_TEXT_BYTES,
  MAX_TRANSLATE_TEXTS,
  TranslationPurpose as WirePurpose,
  type TranslateRequest,
  type TranslateResponse__Output,
} from '../../../proto/src/index.js';
import {
  CancelledError,
  fromServiceError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PolyglotError,
  QuotaExceededError,
  TimeoutError,
  UnavailableError,
  type Glossary,
  type TranslationPurpose,
} from '../../sdk/src/index.js';
import { backoffDelayMs, DEFAULT_ENGINE_CALL, type EngineCallOptions } from './backoff.js';
import { CircuitBreaker } from './CircuitBreaker.js';
import { SYSTEM_CLOCK, sleep, type Clock } from './Clock.js';
import { TranslationCache, type CacheTtls } from './TranslationCache.js';
import { TranslationMetrics, type FallbackReason } from './TranslationMetrics.js';
import { TranslatorChannels } from './TranslatorChannels.js';
import type { PickedTranslator, WorkerDirectory } from './WorkerDirectory.js';

const log = moduleLog('TranslationClient');

/** Which engines translate a pair, in the order they are tried. Engine names as workers announce them. */
export interface EngineChains {
  default: readonly string[];
  /** Keyed `source>target` in lowercase; a bare-language key (`en>de`) also covers regional tags (`en-US>de-AT`). */
  byPair?: Readonly<Record<string, readonly string[]>>;
}

export interface BreakerOptions {
  /** Consecutive failed calls (timeouts, unavailable, quota, internal) that open an engine's breaker. */
  failureThreshold: number;
  /** How long an open breaker skips the engine before one probe call may try it again. */
  cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureThreshold: 5, cooldownMs: 30_000 };

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
  /** The current glossary of each target that has one (GlossaryVersions.forTargets); its version keys the cache. */
  glossaries?: readonly Glossary[];
  requestId?: string;
}

export interface ClientTranslation {
  textIndex: number;
  target: string;
  text: string;
  engine: string;
  cached: boolean;
}

export interface TargetFailure {
  target: string;
  /** The last engine error, or UnavailableError when no engine of the chain could be tried. */
  error: PolyglotError;
}

/** Every (text, target) that was translated, and the targets no engine of their chain could serve. */
export interface TranslateOutcome {
  translations: ClientTranslation[];
  failures: TargetFailure[];
}

interface Translated {
  text: string;
  engine: string;
  cached: boolean;
}

type CallResult = { ok: true; response: TranslateResponse__Output } | { ok: false; error: PolyglotError; reason: FallbackReason };

const WIRE_PURPOSE = { live: WirePurpose.LIVE, chat: WirePurpose.CHAT, document: WirePurpose.DOCUMENT } as const;

/** Added to the gRPC deadline beyond our own timeout, so the worker learns it but our timer decides. */
const DEADLINE_GRACE_MS = 1_000;

/**
 * The one way captions and chat translate text.
 *
 * 1. Cache first: one MGET for every (text, target); only misses go on (TranslationCache).
 * 2. Each target with misses goes to the first engine of its chain whose breaker admits calls and
 *    for which the registry knows a worker; targets that land on the same worker share one
 *    Translate call carrying every missing text (S-5, C-4 batching).
 * 3. Each call has a deadline (2 s by default), is retried only on retryable errors (UNAVAILABLE,
 *    RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED) with exponential backoff and jitter, and counts in the
 *    engine's circuit breaker. A target whose engine fails moves to the next engine of its chain;
 *    each such fallback is counted (`pc_translation_fallbacks_total{engine,reason}`) and logged once.
 * 4. New translations are written back to the cache with the purpose's TTL.
 * Worker connections are one reused gRPC channel per address (TranslatorChannels, S-1).
 */
export class TranslationClient {
  readonly #directory: WorkerDirectory;
  readonly #cache: TranslationCache;
  readonly #metrics: TranslationMetrics;
  readonly #chains: EngineChains;
  readonly #call: EngineCallOptions;
  readonly #breakerOptions: BreakerOptions;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #channels: TranslatorChannels;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  #closed = false;

  constructor(opts: TranslationClientOptions) {
    if (opts.chains.default.length === 0 && Object.keys(opts.chains.byPair ?? {}).length === 0) throw new TypeError('chains: no engine configured');
    this.#directory = opts.directory;
    this.#log = opts.log ?? log;
    this.#cache = new TranslationCache({ redis: opts.redis, ttlSeconds: opts.cacheTtlSeconds, log: this.#log });
    this.#metrics = new TranslationMetrics(opts.registry);
    this.#chains = opts.chains;
    this.#call = { ...DEFAULT_ENGINE_CALL, ...opts.call };
    this.#breakerOptions = { ...DEFAULT_BREAKER, ...opts.breaker };
    this.#channels = new TranslatorChannels(opts.credentials);
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    this.#random = opts.random ?? Math.random;
    for (const [key, value] of Object.entries(this.#call)) {
      if (!Number.isFinite(value) || value < 0) throw new TypeError(`call.${key} must be a number >= 0 (got ${value})`);
    }
  }

  /** The engines tried for a pair, in order. */
  chainFor(source: string, target: string): readonly string[] {
    const s = source.toLowerCase();
    const t = target.toLowerCase();
    const byPair = this.#chains.byPair ?? {};
    return byPair[`${s}>${t}`] ?? byPair[`${baseOf(s)}>${baseOf(t)}`] ?? this.#chains.default;
  }

  /** Number of worker channels open, one per address used. */
  get channelsForTesting(): number {
    return this.#channels.sizeForTesting;
  }

  /** Rejects only for a malformed request (InvalidArgumentError) or when `signal` aborts (CancelledError). */
  async translate(request: ClientTranslateRequest, signal?: AbortSignal): Promise<TranslateOutcome> {
    if (this.#closed) throw new CancelledError('translation client closed');
    const { texts, source, targets, orgId, purpose } = request;
    const glossaryFor = validate(request);
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
    const keys = toTranslate.flatMap((target) => unique.map((text) => keyOf(target, text)));
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
    this.#metrics.cache.inc({ result: 'hit' }, keys.length - misses);
    this.#metrics.cache.inc({ result: 'miss' }, misses);

    const fallbacks = new FallbackLog();
    const failures = await this.#translateMisses({ request, requestId, unique, missing, glossaryFor, results, fallbacks, signal });
    fallbacks.flush(this.#metrics, this.#log, requestId);

    const fresh: { key: string; value: { text: string; engine: string } }[] = [];
    for (const [target, row] of results) {
      if (!missing.has(target)) continue;
      row.forEach((entry, u) => {
        if (entry && !entry.cached) fresh.push({ key: keyOf(target, unique[u] ?? ''), value: { text: entry.text, engine: entry.engine } });
      });
    }
    await this.#cache.setMany(fresh, purpose);

    const failed = new Set(failures.map((f) => f.target));
    const translations: ClientTranslation[] = [];
    for (const target of targets) {
      if (failed.has(target)) continue;
      const row = results.get(target);
      slotOf.forEach((slot, textIndex) => {
        const entry = row?.[slot];
        if (entry) translations.push({ textIndex, target, text: entry.text, engine: entry.engine, cached: entry.cached });
      });
    }
    return { translations, failures };
  }

  async #translateMisses(ctx: {
    request: ClientTranslateRequest;
    requestId: string;
    unique: string[];
    missing: Map<string, number[]>;
    glossaryFor: Map<string, Glossary>;
    results: Map<string, (Translated | undefined)[]>;
    fallbacks: FallbackLog;
    signal: AbortSignal | undefined;
  }): Promise<TargetFailure[]> {
    const { request, missing, results, fallbacks } = ctx;
    const tried = new Map<string, Set<string>>();
    const lastError = new Map<string, PolyglotError>();
    const failures: TargetFailure[] = [];
    let pending = [...missing.keys()];

    // Each round sends every pending target to the next engine of its chain; a target whose engine
    // failed comes back for the following round, so the loop ends when every chain is exhausted.
    while (pending.length > 0) {
      const groups = new Map<string, { engine: string; worker: PickedTranslator; targets: string[] }>();
      for (const target of pending) {
        const engines = tried.get(target) ?? new Set<string>();
        tried.set(target, engines);
        const route = this.#route(request.source, target, engines, fallbacks);
        if (route === undefined) {
          failures.push({ target, error: lastError.get(target) ?? new UnavailableError(`no engine available for ${request.source}->${target}`) });
          continue;
        }
        engines.add(route.engine);
        const key = `${route.engine}\n${route.worker.address}`;
        const group = groups.get(key) ?? { ...route, targets: [] };
        group.targets.push(target);
        groups.set(key, group);
      }
      const outcomes = await Promise.all(
        [...groups.values()].map(async (group) => ({ group, result: await this.#translateGroup(ctx, group) })),
      );
      pending = [];
      for (const { group, result } of outcomes) {
        if (result.ok) {
          for (const target of group.targets) {
            const row = results.get(target);
            for (const [u, translated] of result.byTarget.get(target) ?? []) if (row) row[u] = translated;
          }
          continue;
        }
        fallbacks.note(group.engine, result.reason, group.targets, result.error);
        for (const target of group.targets) lastError.set(target, result.error);
        pending.push(...group.targets);
      }
    }
    return failures;
  }

  /**
   * The first engine, not tried yet for this target, whose breaker admits calls and that has a
   * worker: the configured chain first, then any other engine a worker announces for the pair, so
   * an integrator's new worker for a new pair is used without a configuration change.
   */
  #route(source: string, target: string, tried: Set<string>, fallbacks: FallbackLog): { engine: string; worker: PickedTranslator } | undefined {
    const chain = this.chainFor(source, target);
    const announced = this.#directory.enginesFor?.({ source, target }).filter((engine) => !chain.includes(engine)) ?? [];
    for (const engine of [...chain, ...announced]) {
      if (tried.has(engine)) continue;
      if (!this.#breaker(engine).admits) {
        tried.add(engine);
        fallbacks.note(engine, 'breaker_open', [target]);
        continue;
      }
      const worker = this.#directory.pickTranslator({ source, target }, engine);
      if (worker === undefined) {
        tried.add(engine);
        fallbacks.note(engine, 'no_worker', [target]);
        continue;
      }
      return { engine, worker };
    }
    return undefined;
  }

  /** One engine, several targets: the missing texts in as few Translate calls as the contract's limits allow (usually one). */
  async #translateGroup(
    ctx: {
      request: ClientTranslateRequest;
      requestId: string;
      unique: string[];
      missing: Map<string, number[]>;
      glossaryFor: Map<string, Glossary>;
      signal: AbortSignal | undefined;
    },
    group: { engine: string; worker: PickedTranslator; targets: string[] },
  ): Promise<{ ok: true; byTarget: Map<string, [number, Translated][]> } | { ok: false; error: PolyglotError; reason: FallbackReason }> {
    const { request, unique, missing, glossaryFor } = ctx;
    const slots = [...new Set(group.targets.flatMap((t) => missing.get(t) ?? []))].sort((a, b) => a - b);
    const glossaries = group.targets.flatMap((target) => {
      const g = glossaryFor.get(target);
      return g ? [{ orgId: g.orgId, targetLanguage: target, version: g.version, entries: g.entries.map((e) => ({ sourceTerm: e.sourceTerm, targetTerm: e.targetTerm })) }] : [];
    });
    const byTarget = new Map<string, [number, Translated][]>(group.targets.map((t) => [t, []]));
    const batches = batchesOf(slots.map((u) => unique[u] ?? ''));
    let offset = 0;
    const calls = batches.map((texts) => {
      const batchSlots = slots.slice(offset, (offset += texts.length));
      const wire: TranslateRequest = {
        texts,
        sourceLanguage: request.source,
        targetLanguages: group.targets,
        orgId: request.orgId,
        requestId: ctx.requestId,
        purpose: WIRE_PURPOSE[request.purpose],
        glossaries,
      };
      return this.#callWithRetries(group.engine, group.worker, wire, ctx.signal).then((result) => ({ result, batchSlots, texts }));
    });
    for (const { result, batchSlots, texts } of await Promise.all(calls)) {
      if (!result.ok) return result;
      const decoded = decodeResponse(result.response, texts.length, group.targets, group.engine);
      if (decoded instanceof PolyglotError) {
        this.#breaker(group.engine).onFailure();
        return { ok: false, error: decoded, reason: 'internal' };
      }
      for (const r of decoded) {
        const slot = batchSlots[r.textIndex];
        if (slot !== undefined) byTarget.get(r.target)?.push([slot, { text: r.text, engine: r.engine, cached: false }]);
      }
    }
    return { ok: true, byTarget };
  }

  async #callWithRetries(engine: string, worker: PickedTranslator, wire: TranslateRequest, signal: AbortSignal | undefined): Promise<CallResult> {
    const breaker = this.#breaker(engine);
    let last: { error: PolyglotError; reason: FallbackReason } | undefined;
    for (let attempt = 0; ; attempt++) {
      if (!breaker.tryAcquire()) return last ? { ok: false, ...last } : { ok: false, error: new UnavailableError(`${engine}: circuit breaker open`), reason: 'breaker_open' };
      let response: TranslateResponse__Output;
      try {
        response = await this.#callOnce(engine, worker.address, wire, signal);
      } catch (e) {
        const error = PolyglotError.is(e) ? e : new InternalError(String(e), e);
        if (signal?.aborted) {
          breaker.release();
          throw new CancelledError('translation cancelled by the caller', signal.reason);
        }
        const reason = reasonOf(error);
        this.#metrics.engineCalls.inc({ engine, outcome: reason });
        // Retryable failures and broken answers say the engine is unwell; a NOT_FOUND or
        // INVALID_ARGUMENT says the engine answered (the request was the problem).
        if (error.retryable || error instanceof InternalError) breaker.onFailure();
        else breaker.onSuccess();
        // This worker, not necessarily its engine, may be gone: let the registry steer later picks away.
        if ((error instanceof UnavailableError || error instanceof TimeoutError) && worker.id !== undefined) this.#directory.reportFailure?.(worker.id);
        last = { error, reason };
        if (!error.retryable || attempt >= this.#call.maxRetries) return { ok: false, ...last };
        const retryAfterMs = error instanceof QuotaExceededError ? (error.retryAfterMs ?? 0) : 0;
        // Waiting longer than our own backoff cap would stall live captions: fall back instead.
        if (retryAfterMs > this.#call.maxDelayMs) return { ok: false, ...last };
        await sleep(this.#clock, Math.max(retryAfterMs, backoffDelayMs(attempt, this.#call, this.#random)), signal).catch((err: unknown) => {
          throw new CancelledError('translation cancelled by the caller', err);
        });
        continue;
      }
      breaker.onSuccess();
      this.#metrics.engineCalls.inc({ engine, outcome: 'ok' });
      return { ok: true, response };
    }
  }

  #callOnce(engine: string, address: string, wire: TranslateRequest, signal: AbortSignal | undefined): Promise<TranslateResponse__Output> {
    const client = this.#channels.get(address);
    const timeoutMs = this.#call.timeoutMs;
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const onAbort = () => call.cancel();
      const call = client.translate(wire, { deadline: Date.now() + timeoutMs + DEADLINE_GRACE_MS }, (err, response) => {
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        if (timedOut) return reject(new TimeoutError(`${engine} at ${address}: no answer within ${timeoutMs} ms`, err));
        if (err) return reject(fromServiceError(err));
        if (response === undefined) return reject(new InternalError(`${engine} at ${address}: empty answer`));
        resolve(response);
      });
      // Our clock, not the gRPC deadline, decides the timeout: tests drive it, and it cancels the call.
      const cancelTimer = this.#clock.schedule(() => {
        timedOut = true;
        call.cancel();
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #breaker(engine: string): CircuitBreaker {
    let breaker = this.#breakers.get(engine);
    if (breaker === undefined) {
      breaker = new CircuitBreaker({
        ...this.#breakerOptions,
        clock: this.#clock,
        onStateChange: (state) => {
          this.#metrics.breakerChanged(engine, state);
          if (state === 'open') this.#log.warn({ engine, cooldownMs: this.#breakerOptions.cooldownMs }, 'translation engine circuit opened');
          else this.#log.info({ engine, state }, 'translation engine circuit changed');
        },
      });
      this.#breakers.set(engine, breaker);
    }
    return breaker;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channels.close();
  }
}

/**
 * Fallbacks of one translate() call, merged per (engine, reason): each is counted and logged once,
 * however many targets or batches it concerned.
 */
class FallbackLog {
  readonly #entries = new Map<string, { engine: string; reason: FallbackReason; targets: Set<string>; error: PolyglotError | undefined }>();

  note(engine: string, reason: FallbackReason, targets: readonly string[], error?: PolyglotError): void {
    const key = `${engine}\n${reason}`;
    const entry = this.#entries.get(key) ?? { engine, reason, targets: new Set<string>(), error };
    for (const t of targets) entry.targets.add(t);
    this.#entries.set(key, entry);
  }

  flush(metrics: TranslationMetrics, logger: Logger, requestId: string): void {
    for (const { engine, reason, targets, error } of this.#entries.values()) {
      metrics.fallbacks.inc({ engine, reason });
      const fields = { engine, reason, targets: [...targets], requestId, ...(error ? { err: error } : {}) };
      // An open breaker or a missing worker was already reported when it happened (breaker state, registry).
      if (reason === 'breaker_open' || reason === 'no_worker') logger.debug(fields, 'translation engine skipped');
      else logger.warn(fields, 'translation engine failed, falling back');
    }
    this.#entries.clear();
  }
}

function reasonOf(error: PolyglotError): FallbackReason {
  if (error instanceof TimeoutError) return 'timeout';
  if (error instanceof UnavailableError) return 'unavailable';
  if (error instanceof QuotaExceededError) return 'quota';
  if (error instanceof NotFoundError) return 'not_found';
  if (error instanceof InvalidArgumentError) return 'invalid_argument';
  return 'internal';
}

function baseOf(tag: string): string {
  return tag.split('-', 1)[0] ?? tag;
}

function validate(request: ClientTranslateRequest): Map<string, Glossary> {
  const { texts, source, targets, orgId } = request;
  if (texts.length === 0) throw new InvalidArgumentError('texts is empty');
  if (!source) throw new InvalidArgumentError('source is empty');
  if (!orgId) throw new InvalidArgumentError('orgId is empty');
  if (targets.length === 0 || targets.length > MAX_TARGET_LANGUAGES) throw new InvalidArgumentError(`targets must have 1 to ${MAX_TARGET_LANGUAGES} entries`);
  if (new Set(targets).size !== targets.length) throw new InvalidArgumentError('targets repeats a language');
  const glossaryFor = new Map<string, Glossary>();
  for (const g of request.glossaries ?? []) {
    if (!targets.includes(g.target)) throw new InvalidArgumentError(`glossary for ${g.target}, which is not a target`);
    if (glossaryFor.has(g.target)) throw new InvalidArgumentError(`two glossaries for ${g.target}`);
    glossaryFor.set(g.target, g);
  }
  for (const text of texts) {
    if (Buffer.byteLength(text, 'utf8') > MAX_TRANSLATE_TEXT_BYTES) throw new InvalidArgumentError(`a text is longer than ${MAX_TRANSLATE_TEXT_BYTES} bytes`);
  }
  return glossaryFor;
}

/** Splits texts into Translate calls within the contract's limits (128 texts, 64 KiB). */
function batchesOf(texts: readonly string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const text of texts) {
    const size = Buffer.byteLength(text, 'utf8');
    if (current.length > 0 && (current.length >= MAX_TRANSLATE_TEXTS || bytes + size > MAX_TRANSLATE_TEXT_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(text);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Checks a worker's answer covers every (text, target) exactly as the contract says. */
function decodeResponse(
  response: TranslateResponse__Output,
  textCount: number,
  targets: readonly string[],
  engine: string,
): { textIndex: number; target: string; text: string; engine: string }[] | PolyglotError {
  const seen = new Set<string>();
  const out: { textIndex: number; target: string; text: string; engine: string }[] = [];
  for (const r of response.results) {
    if (r.textIndex >= textCount || !targets.includes(r.targetLanguage)) return new InternalError(`${engine}: answer for an unknown text or target`);
    seen.add(`${r.textIndex}\n${r.targetLanguage}`);
    out.push({ textIndex: r.textIndex, target: r.targetLanguage, text: r.text, engine: r.engine || engine });
  }
  if (seen.size !== textCount * targets.length) return new InternalError(`${engine}: ${seen.size} translations for ${textCount * targets.length} pairs`);
  return out;
}

import type { Logger } from 'pino';
import type { UntranslatableReason } from '../../../core/src/captions/LanguageStatus.js';
import { UnavailableError, type Glossary, type PolyglotError, type TranslationPurpose } from '../../sdk/src/index.js';
import { translateInBatches } from './batching.js';
import type { EngineCaller, EngineTranslation } from './EngineCaller.js';
import { FallbackLog } from './FallbackLog.js';
import type { TranslationMetrics } from './TranslationMetrics.js';
import type { PickedTranslator, WorkerDirectory } from './WorkerDirectory.js';

/** Which engines translate a pair, in the order they are tried. Engine names as workers announce them. */
export interface EngineChains {
  default: readonly string[];
  /** Keyed `source>target` in lowercase; a bare-language key (`en>de`) also covers regional tags (`en-US>de-AT`). */
  byPair?: Readonly<Record<string, readonly string[]>>;
}

export interface EngineRouterOptions {
  directory: WorkerDirectory;
  chains: EngineChains;
  caller: EngineCaller;
  metrics: TranslationMetrics;
  log: Logger;
}

/** What is left to translate after the cache: some of `texts` into each target. */
export interface RouteRequest {
  /** Distinct texts; `missing` refers to them by index. */
  texts: readonly string[];
  source: string;
  orgId: string;
  purpose: TranslationPurpose;
  requestId: string;
  /** Target -> indexes into `texts` still to translate. */
  missing: ReadonlyMap<string, readonly number[]>;
  glossaryFor: ReadonlyMap<string, Glossary>;
}

export interface TargetFailure {
  target: string;
  /** The last engine error, or UnavailableError when no engine of the chain could be tried. */
  error: PolyglotError;
  /** For viewers and metrics: no engine could be tried, every engine tried failed, or the tag is not a language. */
  reason: Exclude<UntranslatableReason, 'language_limit'>;
}

export interface RouteOutcome {
  /** Per target that succeeded, its translations (`textIndex` into the request's texts). */
  translated: Map<string, EngineTranslation[]>;
  failures: TargetFailure[];
}

/**
 * Routing and fallback across engines. Each target goes to the first engine of its chain whose
 * breaker admits calls and for which the registry knows a worker (then to any other engine a worker
 * announces for the pair); targets that land on the same worker share its calls (S-5, C-4
 * batching). A target whose engine fails moves to the next engine; each such fallback is counted
 * (`pc_translation_fallbacks_total{engine,reason}`) and logged once per translation.
 */
export class EngineRouter {
  readonly #directory: WorkerDirectory;
  readonly #chains: EngineChains;
  readonly #caller: EngineCaller;
  readonly #metrics: TranslationMetrics;
  readonly #log: Logger;

  constructor({ directory, chains, caller, metrics, log }: EngineRouterOptions) {
    if (chains.default.length === 0 && Object.keys(chains.byPair ?? {}).length === 0) throw new TypeError('chains: no engine configured');
    this.#directory = directory;
    this.#chains = chains;
    this.#caller = caller;
    this.#metrics = metrics;
    this.#log = log;
  }

  /** The engines tried for a pair, in order. */
  chainFor(source: string, target: string): readonly string[] {
    const s = source.toLowerCase();
    const t = target.toLowerCase();
    const byPair = this.#chains.byPair ?? {};
    return byPair[`${s}>${t}`] ?? byPair[`${baseOf(s)}>${baseOf(t)}`] ?? this.#chains.default;
  }

  /** Rejects only with CancelledError when `signal` aborts; engine failures are outcomes. */
  async translate(request: RouteRequest, signal?: AbortSignal): Promise<RouteOutcome> {
    const fallbacks = new FallbackLog();
    const tried = new Map<string, Set<string>>();
    const lastError = new Map<string, PolyglotError>();
    const translated = new Map<string, EngineTranslation[]>();
    const failures: TargetFailure[] = [];
    /** Targets of a shared call that failed in a way one target can cause: tried alone on that engine. */
    const alone = new Set<string>();
    let pending = [...request.missing.keys()];

    // Each round sends every pending target to the next engine of its chain; a target whose engine
    // failed comes back for the following round, so the loop ends when every chain is exhausted.
    while (pending.length > 0) {
      const groups = new Map<string, { engine: string; worker: PickedTranslator; targets: string[] }>();
      for (const target of pending) {
        const engines = tried.get(target) ?? new Set<string>();
        tried.set(target, engines);
        const route = this.#route(request.source, target, engines, fallbacks);
        if (route === undefined) {
          const error = lastError.get(target);
          failures.push(
            error ? { target, error, reason: 'engine_failed' } : { target, error: new UnavailableError(`no engine available for ${request.source}->${target}`), reason: 'no_engine' },
          );
          continue;
        }
        engines.add(route.engine);
        const key = `${route.engine}\n${route.worker.address}${alone.has(target) ? `\n${target}` : ''}`;
        const group = groups.get(key) ?? { ...route, targets: [] };
        group.targets.push(target);
        groups.set(key, group);
      }
      const outcomes = await Promise.all([...groups.values()].map(async (group) => ({ group, ...(await this.#translateGroup(request, group, signal)) })));
      pending = [];
      for (const { group, result, slots } of outcomes) {
        if (result.ok) {
          for (const t of result.translations) {
            const slot = slots[t.textIndex];
            if (slot === undefined) continue;
            const list = translated.get(t.target) ?? [];
            list.push({ ...t, textIndex: slot });
            translated.set(t.target, list);
          }
          continue;
        }
        if (group.targets.length > 1 && TARGET_SPECIFIC.has(result.reason)) {
          // One language the engine refuses or breaks on must not cost the others their captions:
          // the same engine again, one call per target, and only the culprit falls back.
          for (const target of group.targets) {
            alone.add(target);
            tried.get(target)?.delete(group.engine);
          }
          pending.push(...group.targets);
          continue;
        }
        fallbacks.note(group.engine, result.reason, group.targets, result.error);
        for (const target of group.targets) lastError.set(target, result.error);
        pending.push(...group.targets);
      }
    }
    fallbacks.flush(this.#metrics, this.#log, request.requestId);
    return { translated, failures };
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
      if (!this.#caller.admits(engine)) {
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

  /** One engine, several targets: every text any of them misses, in one batched request. */
  async #translateGroup(request: RouteRequest, group: { engine: string; worker: PickedTranslator; targets: string[] }, signal: AbortSignal | undefined) {
    const slots = [...new Set(group.targets.flatMap((t) => request.missing.get(t) ?? []))].sort((a, b) => a - b);
    const glossaries = group.targets.flatMap((target) => {
      const g = request.glossaryFor.get(target);
      return g ? [g] : [];
    });
    const result = await translateInBatches(
      this.#caller,
      group.engine,
      group.worker,
      {
        texts: slots.map((u) => request.texts[u] ?? ''),
        source: request.source,
        targets: group.targets,
        orgId: request.orgId,
        purpose: request.purpose,
        requestId: request.requestId,
        glossaries,
      },
      signal,
    );
    return { result, slots };
  }
}

/** Failures a single target can cause (an unsupported or malformed language, an engine bug on one language). */
const TARGET_SPECIFIC: ReadonlySet<string> = new Set(['invalid_argument', 'not_found', 'internal']);

function baseOf(tag: string): string {
  return tag.split('-', 1)[0] ?? tag;
}

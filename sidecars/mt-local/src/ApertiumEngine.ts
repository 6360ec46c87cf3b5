import type { Logger } from 'pino';

import {
  NotFoundError,
  type Glossary,
  type LanguagePair,
  type TranslatedText,
  type TranslationEngine,
  type TranslationRequest,
} from '../../sdk/src/index.js';
import { ApertiumPipeline } from './ApertiumPipeline.js';
import { protectTerms, restoreTerms } from './glossary.js';

export interface ApertiumEngineOptions {
  /** Apertium modes to serve, one pipeline each, e.g. ['eng-spa', 'spa-eng']. */
  modes: readonly string[];
  /** Default /usr/share/apertium/modes. */
  modesDir?: string;
  log: Logger;
  /** Per-request bound before a pipeline counts as hung and is restarted; default 10 000. */
  requestTimeoutMs?: number;
}

/** The English pairs Debian ships (apertium-eng-spa, apertium-eng-cat, apertium-en-gl), both ways. */
export const DEFAULT_MODES = ['eng-spa', 'spa-eng', 'eng-cat', 'cat-eng', 'en-gl', 'gl-en'] as const;

export const DEFAULT_MODES_DIR = '/usr/share/apertium/modes';

/** Apertium's ISO 639-3 / 639-1 codes -> BCP-47 (the shortest tag, as BCP-47 wants). */
const BCP47: Readonly<Record<string, string>> = { eng: 'en', en: 'en', spa: 'es', es: 'es', cat: 'ca', ca: 'ca', gl: 'gl', glg: 'gl' };

/** The BCP-47 pair of a mode name like 'eng-spa'; variants ('eng-cat_valencia') are not plain pairs. */
export function pairOfMode(mode: string): LanguagePair {
  const match = /^([a-z]{2,3})-([a-z]{2,3})$/.exec(mode);
  const source = match ? BCP47[match[1] ?? ''] : undefined;
  const target = match ? BCP47[match[2] ?? ''] : undefined;
  if (!source || !target) throw new TypeError(`ApertiumEngine: mode "${mode}" is not a plain pair of known languages (e.g. eng-spa)`);
  return { source, target };
}

/**
 * Offline machine translation with Apertium: one long-lived pipeline per mode, restarted when it
 * dies, many requests in flight on each. Texts of a call are sent one request each and
 * pipelined; targets are translated in parallel. Glossaries: see glossary.ts.
 */
export class ApertiumEngine implements TranslationEngine {
  readonly name = 'apertium';
  readonly pairs: readonly LanguagePair[];
  /** Pipelines queue requests themselves (bounded), so calls need no limit of their own. */
  readonly maxStreams = 0;
  readonly #pipelines: ReadonlyMap<string, ApertiumPipeline>;
  readonly #log: Logger;

  private constructor(pipelines: Map<string, ApertiumPipeline>, log: Logger) {
    this.#pipelines = pipelines;
    this.pairs = [...pipelines.keys()].map((key) => {
      const [source = '', target = ''] = key.split('>');
      return { source, target };
    });
    this.#log = log;
  }

  /** Starts every pipeline and waits for each to answer once (~1 s, in parallel). */
  static async start({ modes, modesDir = DEFAULT_MODES_DIR, log, requestTimeoutMs }: ApertiumEngineOptions): Promise<ApertiumEngine> {
    if (modes.length === 0) throw new TypeError('ApertiumEngine: modes must list at least one mode');
    const engineLog = log.child({ engine: 'apertium' });
    const pipelines = new Map<string, ApertiumPipeline>();
    for (const mode of modes) {
      const { source, target } = pairOfMode(mode);
      const key = `${source}>${target}`;
      if (pipelines.has(key)) throw new TypeError(`ApertiumEngine: two modes translate ${source} -> ${target}`);
      pipelines.set(key, new ApertiumPipeline({ mode, modesDir, log: engineLog, ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}) }));
    }
    const started = await Promise.allSettled([...pipelines.values()].map((p) => p.start()));
    const failed = started.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (failed.length > 0) {
      for (const pipeline of pipelines.values()) pipeline.close();
      throw failed[0];
    }
    engineLog.info({ modes }, 'Apertium pipelines ready');
    return new ApertiumEngine(pipelines, engineLog);
  }

  /** The pipeline of a pair (tests kill its processes). */
  pipelineForTesting(source: string, target: string): ApertiumPipeline | undefined {
    return this.#pipelines.get(`${source}>${target}`);
  }

  async translate(request: TranslationRequest, signal: AbortSignal): Promise<TranslatedText[]> {
    const perTarget = await Promise.all(
      request.targets.map(async (target) => {
        const pipeline = this.#pipelineFor(request.source, target);
        const glossary = request.glossaries.find((g) => g.target === target);
        const texts = await Promise.all(request.texts.map((text) => this.#translateOne(pipeline, text, glossary, signal)));
        return texts.map((text, textIndex) => ({ textIndex, target, text, engine: this.name }));
      }),
    );
    return perTarget.flat();
  }

  async close(): Promise<void> {
    for (const pipeline of this.#pipelines.values()) pipeline.close();
  }

  #pipelineFor(source: string, target: string): ApertiumPipeline {
    // The worker matched the request against `pairs` already: a regional tag maps to its language.
    const pipeline = this.#pipelines.get(`${primary(source)}>${primary(target)}`);
    if (!pipeline) throw new NotFoundError(`Apertium does not translate ${source} -> ${target}`);
    return pipeline;
  }

  async #translateOne(pipeline: ApertiumPipeline, text: string, glossary: Glossary | undefined, signal: AbortSignal): Promise<string> {
    if (text.trim() === '') return '';
    const prepared = prepare(text);
    if (!glossary || glossary.entries.length === 0) return prepared.finish(await pipeline.translate(prepared.text, signal));
    const protectedText = protectTerms(prepared.text, glossary.entries);
    if (protectedText.placeholders.size === 0) return prepared.finish(await pipeline.translate(prepared.text, signal));
    const restored = restoreTerms(await pipeline.translate(protectedText.text, signal), protectedText);
    if (restored !== undefined) return prepared.finish(restored);
    this.#log.debug({ mode: pipeline.mode, orgId: glossary.orgId, version: glossary.version }, 'a glossary placeholder was lost; translating without the glossary');
    return prepared.finish(await pipeline.translate(prepared.text, signal));
  }
}

/**
 * Apertium translates a sentence better when it looks like one: speech-to-text gives lower-case
 * text without a full stop, so we add one for the translation and take it off again (a capital
 * at the start is kept: captions read better with it).
 */
function prepare(text: string): { text: string; finish: (translated: string) => string } {
  const trimmed = text.trim();
  const capitalized = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  if (/[.!?…:;]["'»”)]*$/u.test(trimmed)) return { text: capitalized, finish: (out) => out };
  return { text: `${capitalized}.`, finish: (out) => out.replace(/\s*\.$/, '') };
}

function primary(tag: string): string {
  return tag.toLowerCase().split('-', 1)[0] ?? '';
}

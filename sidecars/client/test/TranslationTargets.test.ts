// The translation client's targets: canonical and deduplicated, split at the contract's limit,
// isolated from each other's failures; and what the cache keeps (never an empty answer to a
// non-empty text, never an interim).
import { randomUUID } from 'node:crypto';
import tap from 'tap';
import { canonicalLanguageTag } from '../../../core/src/languages/languageTag.js';
import { MAX_TARGET_LANGUAGES } from '../../../proto/src/index.js';
import {
  createTranslationWorker,
  InvalidArgumentError,
  type LanguagePair,
  type TranslatedText,
  type TranslationEngine,
  type TranslationRequest,
} from '../../sdk/src/index.js';
import { TranslationCache } from '../src/TranslationCache.js';
import { TranslationClient, type ClientTranslateRequest } from '../src/TranslationClient.js';
import { counterValue, newRegistry, quiet, redisFor, StaticDirectory, type Test } from './_harness.js';

/** A real engine behind a real worker, whose answers the test scripts per target. */
class ScriptedEngine implements TranslationEngine {
  readonly name = 'scripted';
  readonly pairs: readonly LanguagePair[] = [{ source: 'en', target: 'es' }, { source: 'en', target: 'de' }, { source: 'en', target: 'fr' }];
  readonly maxStreams = 0;
  readonly requests: TranslationRequest[] = [];
  /** Targets answered with an empty text. */
  readonly emptyFor = new Set<string>();
  /** Targets the engine refuses (the whole call fails, as a real engine's would). */
  readonly refuse = new Set<string>();

  async translate(request: TranslationRequest): Promise<TranslatedText[]> {
    this.requests.push(request);
    const refused = request.targets.find((t) => this.refuse.has(t));
    if (refused) throw new InvalidArgumentError(`cannot translate into ${refused}`);
    return request.targets.flatMap((target) =>
      request.texts.map((text, textIndex) => ({ textIndex, target, text: this.emptyFor.has(target) ? '' : `[${target}] ${text}`, engine: this.name })),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function setup(t: Test) {
  const engine = new ScriptedEngine();
  const worker = await createTranslationWorker({ engine, metricsPort: null, drainTimeoutMs: 200, log: quiet });
  t.teardown(() => worker.shutdown());
  let calls = 0;
  worker.observer.on('callStarted', () => calls++);
  const directory = new StaticDirectory();
  directory.addresses.set('scripted', worker.address);
  const redis = await redisFor(t);
  const registry = newRegistry();
  const client = new TranslationClient({ directory, redis, registry, chains: { default: ['scripted'] }, call: { maxRetries: 0 }, log: quiet });
  t.teardown(() => client.close());
  const orgId = randomUUID();
  const req = (over: Partial<ClientTranslateRequest>): ClientTranslateRequest => ({ texts: ['good morning'], source: 'en', targets: ['es'], orgId, purpose: 'live', ...over });
  return { engine, client, redis, registry, orgId, req, calls: () => calls };
}

tap.test('ES and es are one target: one engine call, one translation, canonical', async (t) => {
  const { engine, client, req, calls } = await setup(t);
  const outcome = await client.translate(req({ targets: ['ES', 'es', 'Es', 'de'], source: 'EN' }));
  t.same(outcome.translations.map((x) => `${x.target}:${x.text}`).sort(), ['de:[de] good morning', 'es:[es] good morning']);
  t.same(outcome.failures, []);
  t.equal(calls(), 1, 'one call on the worker');
  t.same(engine.requests[0]?.targets, ['es', 'de'], 'each language once, canonical');
});

tap.test('more targets than the contract allows in one call: split, and every one translated', async (t) => {
  const { engine, client, req } = await setup(t);
  const regions = new Set<string>();
  for (let a = 65; regions.size < 70; a++) {
    for (let b = 65; b < 91 && regions.size < 70; b++) regions.add(canonicalLanguageTag(`es-${String.fromCharCode(a, b)}`));
  }
  const targets = [...regions];
  const outcome = await client.translate(req({ targets }));
  t.equal(outcome.failures.length, 0, 'no target failed');
  t.same(outcome.translations.map((x) => x.target).sort(), [...targets].sort(), `${targets.length} targets translated`);
  t.ok(engine.requests.length >= 2, `${engine.requests.length} calls`);
  t.ok(engine.requests.every((r) => r.targets.length <= MAX_TARGET_LANGUAGES), 'no call beyond the contract limit');
});

tap.test('one target the engine refuses, or that is no language, fails alone; the others are translated', async (t) => {
  const { engine, client, req } = await setup(t);
  engine.refuse.add('fr');
  const outcome = await client.translate(req({ targets: ['es', 'fr', 'de', 'es-1'] }));
  t.same(outcome.translations.map((x) => x.target).sort(), ['de', 'es']);
  t.same(outcome.failures.map((f) => `${f.target}:${f.error.code}`).sort(), ['es-1:invalid_argument', 'fr:invalid_argument']);
});

tap.test('an empty translation of a non-empty text is served but never cached', async (t) => {
  const { engine, client, redis, registry, orgId, req, calls } = await setup(t);
  engine.emptyFor.add('es');
  const first = await client.translate(req({ texts: ['buenos', ''], targets: ['es', 'de'] }));
  t.same(first.translations.map((x) => `${x.target}:${x.textIndex}:${x.text}`).sort(), ['de:0:[de] buenos', 'de:1:[de] ', 'es:0:', 'es:1:']);
  const keyOf = (target: string, text: string) => TranslationCache.key({ source: 'en', target, orgId, glossaryVersion: 0, text });
  t.equal(await redis.get(keyOf('es', 'buenos')), null, 'the empty answer is not kept');
  t.not(await redis.get(keyOf('de', 'buenos')), null, 'a good answer is');
  t.not(await redis.get(keyOf('es', '')), null, 'an empty text may translate to empty');

  engine.emptyFor.clear(); // the worker is fixed: the next final gets the real text at once
  const before = calls();
  const fixed = await client.translate(req({ texts: ['buenos'], targets: ['es'] }));
  t.same(fixed.translations.map((x) => `${x.text}:${x.cached ? 'cached' : 'fresh'}`), ['[es] buenos:fresh']);
  t.equal(calls(), before + 1);
  t.equal(await counterValue(registry, 'pc_translation_cache_total', { result: 'miss' }), 5, 'the fixed text was a miss');
});

tap.test('interims skip the cache: never read, never written', async (t) => {
  const { client, redis, orgId, req, calls } = await setup(t);
  const key = TranslationCache.key({ source: 'en', target: 'es', orgId, glossaryVersion: 0, text: 'partial' });
  await client.translate(req({ texts: ['partial'], skipCache: true }));
  t.equal(await redis.get(key), null, 'an interim is not written');
  await redis.set(key, JSON.stringify({ t: 'stale', e: 'scripted' }));
  const interim = await client.translate(req({ texts: ['partial'], skipCache: true }));
  t.same(interim.translations.map((x) => x.text), ['[es] partial'], 'nor read');
  t.equal(calls(), 2);
});

import tap from 'tap';
import { InvalidArgumentError, UnavailableError } from '../../sdk/src/index.js';
import { EngineRouter, type EngineChains, type RouteRequest } from '../src/EngineRouter.js';
import { counterValue, quiet, type Test } from './_harness.js';
import { callerFor, FakeDirectory, fakeWorker } from './_fakeWorkers.js';

function routerFor(t: Test, chains: EngineChains, options: Parameters<typeof callerFor>[1] = {}) {
  const { caller, registry, metrics } = callerFor(t, { call: { maxRetries: 0 }, ...options });
  const directory = new FakeDirectory();
  const router = new EngineRouter({ directory, chains, caller, metrics, log: quiet });
  return { router, directory, registry, caller };
}

const request = (missing: Record<string, number[]>, texts = ['hello', 'world']): RouteRequest => ({
  texts,
  source: 'en',
  orgId: 'org-1',
  purpose: 'live',
  requestId: 'r-1',
  missing: new Map(Object.entries(missing)),
  glossaryFor: new Map(),
});

const linesOf = (translated: Map<string, { textIndex: number; text: string; engine: string }[]>) =>
  [...translated].flatMap(([target, list]) => list.map((x) => `${target}:${x.textIndex}:${x.text}:${x.engine}`)).sort();

tap.test('chainFor: the pair, then the bare languages of a regional pair, then the default', async (t) => {
  const { router } = routerFor(t, { default: ['google', 'deepl'], byPair: { 'en>ja': ['deepl'], 'de>fr': ['apertium'], 'en-gb>de': ['google'] } });
  const table: [string, string, readonly string[]][] = [
    ['en', 'ja', ['deepl']],
    ['EN', 'JA', ['deepl']],
    ['en-US', 'ja', ['deepl']],
    ['de-AT', 'fr-CA', ['apertium']],
    ['en-GB', 'de', ['google']],
    ['en', 'de', ['google', 'deepl']],
  ];
  for (const [source, target, chain] of table) t.same(router.chainFor(source, target), chain, `${source}>${target}`);
  t.throws(() => routerFor(t, { default: [] }), /no engine configured/);
});

tap.test('targets on the same worker share one call carrying the union of their missing texts', async (t) => {
  const { router, directory } = routerFor(t, { default: ['a'] });
  const a = await fakeWorker(t, 'a');
  directory.workers.set('a', a.picked);
  const { translated, failures } = await router.translate(request({ de: [0, 1], fr: [1] }));
  t.same(failures, []);
  t.equal(a.engine.requests.length, 1, 'one call for both targets');
  t.same(a.engine.requests[0]?.texts, ['hello', 'world'], 'the union of the missing texts');
  // A shared call translates the union into every target of the group, so fr also gets 'hello'.
  t.same(linesOf(translated), ['de:0:[de] hello:a', 'de:1:[de] world:a', 'fr:0:[fr] hello:a', 'fr:1:[fr] world:a'], 'indexes into the request\'s texts');
});

tap.test('a failed engine falls back to the next one in the chain, then to engines announced for the pair', async (t) => {
  const { router, directory, registry } = routerFor(t, { default: ['a', 'b'] });
  const [a, b, c] = await Promise.all([fakeWorker(t, 'a'), fakeWorker(t, 'b'), fakeWorker(t, 'c')]);
  directory.workers.set('a', a.picked).set('b', b.picked).set('c', c.picked);
  directory.announced = ['c', 'a'];

  a.engine.failNext(new InvalidArgumentError('not for a'));
  const viaB = await router.translate(request({ de: [0] }));
  t.same(linesOf(viaB.translated), ['de:0:[de] hello:b']);
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'a', reason: 'invalid_argument' }), 1, 'one fallback');

  a.engine.failNext(new InvalidArgumentError('not for a'));
  b.engine.failNext(new InvalidArgumentError('not for b'));
  const viaC = await router.translate(request({ de: [0] }));
  t.same(linesOf(viaC.translated), ['de:0:[de] hello:c'], 'an announced engine after the configured chain');
  t.same([a.engine.requests.length, b.engine.requests.length, c.engine.requests.length], [2, 2, 1], 'each engine tried once');
});

tap.test('a shared call refused because of one target: each target alone on that engine, only the culprit falls back', async (t) => {
  const { router, directory, registry } = routerFor(t, { default: ['a', 'b'] });
  const [a, b] = await Promise.all([fakeWorker(t, 'a'), fakeWorker(t, 'b')]);
  directory.workers.set('a', a.picked).set('b', b.picked);
  a.engine.failNext(new InvalidArgumentError('not for a'));
  const split = await router.translate(request({ de: [0], fr: [0] }));
  t.same(linesOf(split.translated), ['de:0:[de] hello:a', 'fr:0:[fr] hello:a'], 'both still on a');
  t.same(a.engine.requests.map((r) => r.targets), [['de', 'fr'], ['de'], ['fr']]);
  t.equal(b.engine.requests.length, 0);
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'a', reason: 'invalid_argument' }), 0, 'no fallback counted');
});

tap.test('skipped engines (no worker, open breaker) and exhausted chains', async (t) => {
  const { router, directory, registry } = routerFor(t, { default: ['a', 'b'] }, { breaker: { failureThreshold: 1, cooldownMs: 10_000 } });
  const b = await fakeWorker(t, 'b');
  directory.workers.set('b', b.picked);
  const noA = await router.translate(request({ de: [0] }));
  t.same(linesOf(noA.translated), ['de:0:[de] hello:b']);
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'a', reason: 'no_worker' }), 1);

  b.engine.failNext(new UnavailableError('b is down'));
  const exhausted = await router.translate(request({ de: [0], fr: [1] }));
  t.same(exhausted.failures.map((f) => [f.target, f.error.constructor.name]).sort(), [['de', 'UnavailableError'], ['fr', 'UnavailableError']], 'the last engine error per target');
  t.same(linesOf(exhausted.translated), []);

  const breakerOpen = await router.translate(request({ de: [0] }));
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'b', reason: 'breaker_open' }), 1);
  t.match(breakerOpen.failures[0]?.error.message, /no engine available for en->de/);
  t.equal(b.engine.requests.length, 2, 'b was not called while its breaker was open');
});

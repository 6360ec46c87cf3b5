import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import tap from 'tap';
import type { Registry } from 'prom-client';
import { InvalidArgumentError } from '../../sdk/src/index.js';
import { TranslationCache } from '../src/TranslationCache.js';
import { TranslationClient, type ClientTranslateRequest, type TranslationClientOptions } from '../src/TranslationClient.js';
import { counterValue, newRegistry, quiet, redisFor, startEngines, StaticDirectory, type Engines, type Test } from './_harness.js';
import { ManualClock } from './ManualClock.js';

const TIMEOUT_MS = 2_000;

interface Setup {
  engines: Engines;
  client: TranslationClient;
  clock: ManualClock;
  registry: Registry;
  directory: StaticDirectory;
  orgId: string;
  redis: Awaited<ReturnType<typeof redisFor>>;
}

async function setup(t: Test, options: Partial<TranslationClientOptions> = {}): Promise<Setup> {
  const engines = await startEngines(t);
  const redis = await redisFor(t);
  const clock = new ManualClock();
  const registry = newRegistry();
  const directory = new StaticDirectory();
  directory.addresses.set('google', engines.google.worker.address);
  directory.addresses.set('deepl', engines.deepl.worker.address);
  const client = new TranslationClient({
    directory,
    redis,
    registry,
    chains: { default: ['google', 'deepl'] },
    call: { timeoutMs: TIMEOUT_MS, maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1_000 },
    breaker: { failureThreshold: 5, cooldownMs: 10_000 },
    clock,
    random: () => 0.5,
    log: quiet,
    ...options,
  });
  t.teardown(() => client.close());
  // A fresh organization per test: cache keys never collide across tests or runs.
  return { engines, client, clock, registry, directory, orgId: randomUUID(), redis };
}

const req = (orgId: string, over: Partial<ClientTranslateRequest> = {}): ClientTranslateRequest => ({
  texts: ['good morning'],
  source: 'en',
  targets: ['de'],
  orgId,
  purpose: 'live',
  ...over,
});

const textsOf = (outcome: Awaited<ReturnType<TranslationClient['translate']>>) =>
  outcome.translations.map((x) => `${x.target}:${x.textIndex}:${x.text}:${x.engine}:${x.cached ? 'cached' : 'fresh'}`);

/** Lets the client's backoff timer fire once it is scheduled; returns the delay it asked for. */
async function runBackoff(clock: ManualClock): Promise<number> {
  const delay = await clock.nextTimer((ms) => ms !== TIMEOUT_MS);
  clock.advance(delay);
  return delay;
}

tap.test('many texts, many targets: one Translate call per engine, cached with the right key and TTL', async (t) => {
  const { engines, client, orgId, redis } = await setup(t);
  const outcome = await client.translate(req(orgId, { texts: ['good morning', 'the keynote', 'good morning'], targets: ['de', 'fr', 'en'] }));
  t.same(textsOf(outcome).sort(), [
    'de:0:[de] good morning:google:fresh',
    'de:1:[de] the keynote:google:fresh',
    'de:2:[de] good morning:google:fresh',
    'en:0:good morning:identity:fresh',
    'en:1:the keynote:identity:fresh',
    'en:2:good morning:identity:fresh',
    'fr:0:[fr] good morning:google:fresh',
    'fr:1:[fr] the keynote:google:fresh',
    'fr:2:[fr] good morning:google:fresh',
  ]);
  t.equal(engines.google.calls(), 1, 'one gRPC Translate call for both targets');
  t.same(engines.google.standIn.calls.map((c) => [c.target, c.contents]), [
    ['de', ['good morning', 'the keynote']],
    ['fr', ['good morning', 'the keynote']],
  ], 'a repeated text is translated once');
  t.equal(client.channelsForTesting, 1);

  const key = TranslationCache.key({ source: 'en', target: 'de', orgId, glossaryVersion: 0, text: 'good morning' });
  t.match(key, new RegExp(`^pc:tr:en:de:${orgId}:0:[0-9a-f]{64}$`));
  t.equal(await redis.get(key), JSON.stringify({ t: '[de] good morning', e: 'google' }));
  const ttl = await redis.ttl(key);
  t.ok(ttl > 3_500 && ttl <= 3_600, `live TTL is 1 h (${ttl} s)`);

  await client.translate(req(orgId, { texts: ['a chat line'], purpose: 'chat' }));
  const chatTtl = await redis.ttl(TranslationCache.key({ source: 'en', target: 'de', orgId, glossaryVersion: 0, text: 'a chat line' }));
  t.ok(chatTtl > 86_000 && chatTtl <= 86_400, `chat TTL is 24 h (${chatTtl} s)`);
});

tap.test('a cache hit makes no engine call; only misses go to the engine', async (t) => {
  const { engines, client, orgId } = await setup(t);
  await client.translate(req(orgId, { texts: ['hello', 'world'], targets: ['de', 'fr'] }));
  const providerCalls = engines.google.standIn.calls.length;
  const again = await client.translate(req(orgId, { texts: ['hello', 'world'], targets: ['de', 'fr'] }));
  t.ok(again.translations.every((x) => x.cached && x.engine === 'google'), 'all from the cache, engine remembered');
  t.equal(engines.google.standIn.calls.length, providerCalls, 'no provider call');
  t.equal(engines.google.calls(), 1, 'no worker call');

  const partly = await client.translate(req(orgId, { texts: ['hello', 'new text'], targets: ['de'] }));
  t.same(textsOf(partly), ['de:0:[de] hello:google:cached', 'de:1:[de] new text:google:fresh']);
  t.same(engines.google.standIn.calls.at(-1)?.contents, ['new text'], 'only the miss was sent');
});

tap.test('a glossary version bump changes the next translation (old entries are never served)', async (t) => {
  const { engines, client, orgId } = await setup(t);
  const v1 = { orgId, source: 'en', target: 'de', version: 1, entries: [{ sourceTerm: 'keynote', targetTerm: 'Hauptvortrag' }] };
  engines.google.standIn.glossaries.set(engines.google.engine.glossaryName(v1), new Map([['keynote', 'Hauptvortrag']]));
  const first = await client.translate(req(orgId, { texts: ['the keynote'], glossaries: [v1] }));
  t.same(textsOf(first), ['de:0:[de] the Hauptvortrag:google:fresh']);
  t.same(textsOf(await client.translate(req(orgId, { texts: ['the keynote'], glossaries: [v1] }))), ['de:0:[de] the Hauptvortrag:google:cached']);

  const v2 = { ...v1, version: 2, entries: [{ sourceTerm: 'keynote', targetTerm: 'Grundsatzrede' }] };
  engines.google.standIn.glossaries.set(engines.google.engine.glossaryName(v2), new Map([['keynote', 'Grundsatzrede']]));
  const bumped = await client.translate(req(orgId, { texts: ['the keynote'], glossaries: [v2] }));
  t.same(textsOf(bumped), ['de:0:[de] the Grundsatzrede:google:fresh'], 'version 2 misses the cache and uses its glossary');
  t.match(engines.google.standIn.calls.at(-1)?.glossary, /-v2$/);
});

tap.test('UNAVAILABLE (503) and RESOURCE_EXHAUSTED (429) are retried with exponential backoff, on the same engine', async (t) => {
  const { engines, client, clock, registry, orgId } = await setup(t);

  engines.google.standIn.failNext(grpc.status.UNAVAILABLE, 2);
  const pending = client.translate(req(orgId, { texts: ['retry me'] }));
  const delays = [await runBackoff(clock), await runBackoff(clock)];
  const outcome = await pending;
  t.same(textsOf(outcome), ['de:0:[de] retry me:google:fresh'], 'the third attempt succeeded on google');
  t.same(delays, [75, 150], 'backoff doubles (equal jitter with random=0.5: 50..100, then 100..200)');
  t.equal(engines.google.standIn.calls.length, 3);
  t.equal(engines.deepl.calls(), 0, 'no fallback');

  engines.google.standIn.failNext(grpc.status.RESOURCE_EXHAUSTED);
  const quota = client.translate(req(orgId, { texts: ['quota'] }));
  await runBackoff(clock);
  t.same(textsOf(await quota), ['de:0:[de] quota:google:fresh']);
  t.equal(await counterValue(registry, 'pc_translation_engine_calls_total', { engine: 'google', outcome: 'quota' }), 1);
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'google', reason: 'quota' }), 0);

  // DeepL's HTTP 503 and 429 reach the client as the same retryable statuses.
  const second = await setup(t, { chains: { default: ['deepl', 'google'] } });
  second.engines.deepl.standIn.failNext(503);
  second.engines.deepl.standIn.failNext(429);
  const viaDeepl = second.client.translate(req(orgId, { texts: ['via deepl'] }));
  await runBackoff(second.clock);
  await runBackoff(second.clock);
  t.same(textsOf(await viaDeepl), ['de:0:[DE] via deepl:deepl:fresh']);
  t.equal(second.engines.deepl.standIn.translateCalls.length, 3);
  t.equal(second.engines.google.calls(), 0);
});

tap.test('non-retryable errors fall back at once; retryable ones after the retries', async (t) => {
  const { engines, client, clock, registry, orgId } = await setup(t);

  engines.google.standIn.failNext(grpc.status.INVALID_ARGUMENT);
  const invalid = await client.translate(req(orgId, { texts: ['bad for google'] }));
  t.same(textsOf(invalid), ['de:0:[DE] bad for google:deepl:fresh']);
  t.equal(engines.google.standIn.calls.length, 1, 'no retry');
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'google', reason: 'invalid_argument' }), 1);

  engines.google.standIn.failNext(grpc.status.NOT_FOUND);
  await client.translate(req(orgId, { texts: ['unknown glossary'] }));
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'google', reason: 'not_found' }), 1);

  engines.google.standIn.failNext(grpc.status.UNAVAILABLE, 3);
  const exhausted = client.translate(req(orgId, { texts: ['google is down'] }));
  await runBackoff(clock);
  await runBackoff(clock);
  t.same(textsOf(await exhausted), ['de:0:[DE] google is down:deepl:fresh']);
  t.equal(engines.google.standIn.calls.length, 2 + 3, '1 + maxRetries attempts on google');
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'google', reason: 'unavailable' }), 1, 'counted once per fallback, not per attempt');

  engines.google.standIn.failNext(grpc.status.INVALID_ARGUMENT);
  engines.deepl.standIn.failNext(400);
  // One target: a shared call that fails on a target-specific error is retried per target
  // (TranslationTargets.test.ts), which would spend these one-shot scripted failures.
  const none = await client.translate(req(orgId, { texts: ['nobody can'], targets: ['de'] }));
  t.same(none.failures.map((f) => [f.target, f.error.constructor.name]), [['de', 'InvalidArgumentError']], 'reported, not thrown');
  t.same(none.translations, []);
  t.same(textsOf(await client.translate(req(orgId, { texts: ['nobody can'], targets: ['de', 'fr'] }))).sort(), [
    'de:0:[de] nobody can:google:fresh',
    'fr:0:[fr] nobody can:google:fresh',
  ], 'failures are not cached');
});

tap.test('a timeout (2 s on the injected clock) cancels the call and falls back', async (t) => {
  const { engines, client, clock, registry, orgId } = await setup(t, { call: { timeoutMs: TIMEOUT_MS, maxRetries: 0, baseDelayMs: 100, maxDelayMs: 1_000 } });
  engines.google.standIn.hangNext();
  const pending = client.translate(req(orgId, { texts: ['slow'] }));
  t.equal(await clock.nextTimer((ms) => ms === TIMEOUT_MS), TIMEOUT_MS);
  clock.advance(TIMEOUT_MS);
  t.same(textsOf(await pending), ['de:0:[DE] slow:deepl:fresh']);
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'google', reason: 'timeout' }), 1);
});

tap.test('the breaker opens after N failures, skips the engine, half-opens after the cooldown, closes on a good probe', async (t) => {
  const { engines, client, clock, registry, orgId } = await setup(t, {
    call: { timeoutMs: TIMEOUT_MS, maxRetries: 0, baseDelayMs: 100, maxDelayMs: 1_000 },
    breaker: { failureThreshold: 3, cooldownMs: 10_000 },
  });
  const google = engines.google.standIn;
  let n = 0;
  const next = () => client.translate(req(orgId, { texts: [`line ${++n}`] }));

  google.failNext(grpc.status.UNAVAILABLE, 3);
  for (let i = 0; i < 3; i++) t.equal((await next()).translations[0]?.engine, 'deepl');
  t.equal(google.calls.length, 3);
  t.equal(await counterValue(registry, 'pc_translation_breaker_open', { engine: 'google' }), 1, 'open');

  for (let i = 0; i < 2; i++) t.equal((await next()).translations[0]?.engine, 'deepl', 'while open: straight to deepl');
  t.equal(google.calls.length, 3, 'google was not called while open');
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'google', reason: 'breaker_open' }), 2);

  clock.advance(9_999);
  await next();
  t.equal(google.calls.length, 3, 'still open 1 ms before the cooldown ends');

  clock.advance(1);
  google.failNext(grpc.status.UNAVAILABLE);
  t.equal((await next()).translations[0]?.engine, 'deepl', 'the half-open probe failed');
  t.equal(google.calls.length, 4, 'exactly one probe');
  await next();
  t.equal(google.calls.length, 4, 'open again after a failed probe');

  clock.advance(10_000);
  t.equal((await next()).translations[0]?.engine, 'google', 'the probe succeeded');
  t.equal(await counterValue(registry, 'pc_translation_breaker_open', { engine: 'google' }), 0, 'closed');
  t.equal((await next()).translations[0]?.engine, 'google', 'closed: google again');
  t.equal(google.calls.length, 6);
});

tap.test('a missing worker is a fallback too, and one channel serves each address', async (t) => {
  const { engines, client, directory, registry, orgId } = await setup(t);
  directory.addresses.delete('google');
  t.same(textsOf(await client.translate(req(orgId, { texts: ['no google worker'] }))), ['de:0:[DE] no google worker:deepl:fresh']);
  t.equal(await counterValue(registry, 'pc_translation_fallbacks_total', { engine: 'google', reason: 'no_worker' }), 1);
  directory.addresses.set('google', engines.google.worker.address);
  for (let i = 0; i < 5; i++) await client.translate(req(orgId, { texts: [`reuse ${i}`], targets: ['de', 'fr'] }));
  t.equal(client.channelsForTesting, 2, 'one channel per worker address, reused');
});

tap.test('malformed requests are refused before any call', async (t) => {
  const { client, orgId } = await setup(t);
  await t.rejects(client.translate(req(orgId, { texts: [] })), InvalidArgumentError);
  await t.rejects(client.translate(req(orgId, { source: 'not a tag' })), InvalidArgumentError);
  await t.rejects(client.translate(req(orgId, { targets: [] })), InvalidArgumentError);
  await t.rejects(client.translate(req(orgId, { glossaries: [{ orgId, source: 'en', target: 'fr', version: 1, entries: [] }] })), InvalidArgumentError);
});

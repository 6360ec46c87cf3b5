import { pino } from 'pino';
import tap from 'tap';
import { DeepLStandIn } from '../../../test/standins/DeepLStandIn.js';
import {
  CancelledError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PolyglotError,
  QuotaExceededError,
  UnavailableError,
  type Glossary,
  type TranslationRequest,
} from '../../sdk/src/index.js';
import { DeepLEngine } from '../src/DeepLEngine.js';
import { deeplSource, deeplTarget } from '../src/languages.js';

const ORG = '7d0c3a52-0000-4000-8000-000000000001';
const KEY = 'test-key:fx';
const log = pino({ level: 'silent' });

async function setup(t: Pick<typeof tap, 'teardown'>, authKey = KEY) {
  const standIn = await DeepLStandIn.start({ authKey: KEY });
  const engine = new DeepLEngine({ authKey, serverUrl: standIn.url, languages: ['en', 'de', 'fr', 'pt-BR'], log });
  t.teardown(async () => {
    await engine.close();
    await standIn.close();
  });
  return { standIn, engine };
}

const request = (over: Partial<TranslationRequest> = {}): TranslationRequest => ({
  texts: ['good morning', '', 'the keynote starts'],
  source: 'en',
  targets: ['de', 'fr'],
  glossaries: [],
  purpose: 'chat',
  orgId: ORG,
  requestId: 'r1',
  ...over,
});

const glossary = (version: number, replacement: string): Glossary => ({
  orgId: ORG,
  source: 'en',
  target: 'de',
  version,
  entries: [{ sourceTerm: 'keynote', targetTerm: replacement }],
});

tap.test('BCP-47 tags become DeepL codes; bare en/pt targets get a region', async (t) => {
  t.equal(deeplTarget('en'), 'en-US');
  t.equal(deeplTarget('en', { en: 'en-GB', pt: 'pt-PT' }), 'en-GB');
  t.equal(deeplTarget('en-GB'), 'en-GB');
  t.equal(deeplTarget('pt'), 'pt-BR');
  t.equal(deeplTarget('zh-Hant'), 'zh-HANT');
  t.equal(deeplTarget('de-AT'), 'de');
  t.equal(deeplTarget('xx'), undefined);
  t.equal(deeplSource('en-US'), 'en');
  t.equal(deeplSource('pt-BR'), 'pt');
});

tap.test('one /v2/translate request per target carries every text', async (t) => {
  const { standIn, engine } = await setup(t);
  const out = await engine.translate(request({ targets: ['de', 'en'], source: 'fr' }), new AbortController().signal);
  const calls = standIn.translateCalls;
  t.equal(calls.length, 2);
  t.same(calls.map((c) => [c.params.get('target_lang'), c.params.getAll('text')]).sort(), [
    ['de', ['good morning', 'the keynote starts']],
    ['en-US', ['good morning', 'the keynote starts']],
  ], 'target en is sent as en-US; the empty text is not sent');
  t.same(out.filter((r) => r.target === 'en').map((r) => r.text), ['[EN-US] good morning', '', '[EN-US] the keynote starts']);
  t.ok(out.every((r) => r.engine === 'deepl'));
});

tap.test('requests reuse one keep-alive connection (S-1)', async (t) => {
  const { standIn, engine } = await setup(t);
  for (let i = 0; i < 5; i++) await engine.translate(request({ texts: [`line ${i}`], targets: ['de'] }), new AbortController().signal);
  t.equal(standIn.translateCalls.length, 5);
  t.equal(standIn.connections, 1, 'five requests, one TCP connection');
});

tap.test('a glossary is created once per (org, pair, version) and its id reused', async (t) => {
  const { standIn, engine } = await setup(t);
  const signal = new AbortController().signal;
  const v1 = await engine.translate(request({ targets: ['de'], glossaries: [glossary(1, 'Hauptvortrag')] }), signal);
  t.equal(v1[2]?.text, '[DE] the Hauptvortrag starts');
  await engine.translate(request({ targets: ['de'], glossaries: [glossary(1, 'Hauptvortrag')] }), signal);
  t.equal(standIn.requests.filter((r) => r.method === 'POST' && r.path === '/v2/glossaries').length, 1, 'created once');
  t.equal(standIn.requests.filter((r) => r.method === 'GET' && r.path === '/v2/glossaries').length, 1, 'listed once');

  const v2 = await engine.translate(request({ targets: ['de'], glossaries: [glossary(2, 'Keynote-Rede')] }), signal);
  t.equal(v2[2]?.text, '[DE] the Keynote-Rede starts', 'a new version is a new glossary');
  await engine.close(); // waits for the clean-up of version 1
  t.same([...standIn.glossaries.values()].map((g) => g.name), [`pc:${ORG}:en:de:v2`], 'the old version was deleted');
});

tap.test('a restarted engine reuses the glossaries it finds, and recreates one deleted behind its back', async (t) => {
  const { standIn, engine } = await setup(t);
  const signal = new AbortController().signal;
  await engine.translate(request({ targets: ['de'], glossaries: [glossary(3, 'Hauptvortrag')] }), signal);
  const second = new DeepLEngine({ authKey: KEY, serverUrl: standIn.url, languages: ['en', 'de'], log });
  t.teardown(() => second.close());
  await second.translate(request({ targets: ['de'], glossaries: [glossary(3, 'Hauptvortrag')] }), signal);
  t.equal(standIn.glossaries.size, 1, 'no duplicate after a restart');

  standIn.glossaries.clear();
  const out = await second.translate(request({ targets: ['de'], glossaries: [glossary(3, 'Hauptvortrag')] }), signal);
  t.equal(out[2]?.text, '[DE] the Hauptvortrag starts');
  t.equal(standIn.glossaries.size, 1, 'recreated');
});

tap.test('HTTP statuses map onto SDK errors, and deepl-node never retries', async (t) => {
  const { standIn, engine } = await setup(t);
  const cases: [number, new (...args: never[]) => PolyglotError, boolean][] = [
    [503, UnavailableError, true],
    [500, UnavailableError, true],
    [429, QuotaExceededError, true],
    [456, QuotaExceededError, true],
    [400, InvalidArgumentError, false],
    [404, NotFoundError, false],
  ];
  for (const [status, cls, retryable] of cases) {
    const before = standIn.translateCalls.length;
    standIn.failNext(status);
    const err = await engine.translate(request({ targets: ['de'] }), new AbortController().signal).catch((e: unknown) => e);
    t.ok(err instanceof cls, `${status} -> ${cls.name}`);
    t.equal(PolyglotError.is(err) && err.retryable, retryable, `${status} retryable=${retryable}`);
    t.equal(standIn.translateCalls.length - before, 1, `${status}: exactly one request`);
  }
});

tap.test('a wrong key (403) is a non-retryable error', async (t) => {
  const { engine } = await setup(t, 'wrong-key:fx');
  const err = await engine.translate(request({ targets: ['de'] }), new AbortController().signal).catch((e: unknown) => e);
  t.ok(err instanceof InternalError);
  t.equal(PolyglotError.is(err) && err.retryable, false);
});

tap.test('aborting the signal rejects at once with CancelledError', async (t) => {
  const { standIn, engine } = await setup(t);
  standIn.hangNext();
  const abort = new AbortController();
  const pending = engine.translate(request({ targets: ['de'] }), abort.signal);
  abort.abort();
  t.ok((await pending.catch((e: unknown) => e)) instanceof CancelledError);
});

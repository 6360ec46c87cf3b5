import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import t from 'tap';

import type { TranslateRequest, TranslateResponse__Output, TranslatorClient } from '../../../proto/src/index.js';
import { createTranslationWorker, FakeTranslationEngine, onceEvent, QuotaExceededError, UnavailableError } from '../src/index.js';
import { client, contract, unary } from './calls.js';

const log = pino({ level: 'silent' });
type Teardown = { teardown(fn: () => unknown): void };

async function startWorker(t: Teardown, engine = new FakeTranslationEngine()): Promise<{ mt: TranslatorClient; engine: FakeTranslationEngine }> {
  const worker = await createTranslationWorker({ engine, log, metricsPort: null });
  t.teardown(() => worker.shutdown());
  return { mt: client(t, contract.Translator.Client, worker.address), engine };
}

const REQUEST: TranslateRequest = { texts: ['hello', 'roadmap ready'], sourceLanguage: 'en', targetLanguages: ['fr'], orgId: 'org-1' };

function translate(mt: TranslatorClient, request: TranslateRequest): Promise<TranslateResponse__Output> {
  return unary<TranslateResponse__Output>((cb) => mt.Translate(request, cb));
}

t.test('a batch into several targets: target-major order, glossary per target, identity for the source language', async (t) => {
  const { mt, engine } = await startWorker(t);
  const response = await translate(mt, {
    ...REQUEST,
    targetLanguages: ['fr', 'de-AT', 'en-GB'],
    glossaries: [{ orgId: 'org-1', targetLanguage: 'fr', version: 3, entries: [{ sourceTerm: 'roadmap', targetTerm: 'feuille de route' }] }],
  });
  t.same(
    response.results.map((r) => [r.textIndex, r.targetLanguage, r.text, r.engine]),
    [
      [0, 'fr', '[fr] hello', 'fake-mt'],
      [1, 'fr', '[fr] feuille de route ready', 'fake-mt'],
      [0, 'de-AT', '[de-AT] hello', 'fake-mt'],
      [1, 'de-AT', '[de-AT] roadmap ready', 'fake-mt'],
      [0, 'en-GB', 'hello', 'identity'],
      [1, 'en-GB', 'roadmap ready', 'identity'],
    ],
  );
  t.same(engine.requests[0]?.targets, ['fr', 'de-AT'], 'the engine never sees the identity target');
  t.match(engine.requests[0]?.glossaries, [{ orgId: 'org-1', source: 'en', target: 'fr', version: 3 }]);
});

t.test('bad requests: INVALID_ARGUMENT or NOT_FOUND with what to fix', async (t) => {
  const { mt, engine } = await startWorker(t);
  const cases: [string, TranslateRequest, grpc.status, RegExp][] = [
    ['empty batch', { ...REQUEST, texts: [] }, grpc.status.INVALID_ARGUMENT, /texts is empty; send 1 to 128/],
    ['129 texts', { ...REQUEST, texts: Array.from({ length: 129 }, () => 'x') }, grpc.status.INVALID_ARGUMENT, /129 entries; send at most 128 .*split the batch/],
    ['65 KiB', { ...REQUEST, texts: ['x'.repeat(40_000), 'y'.repeat(30_000)] }, grpc.status.INVALID_ARGUMENT, /total 70000 bytes.*65536/],
    ['unsupported pair', { ...REQUEST, targetLanguages: ['fr', 'ja'] }, grpc.status.NOT_FOUND, /does not translate en -> ja; it translates en -> fr, en -> de/],
    ['unsupported source', { ...REQUEST, sourceLanguage: 'es' }, grpc.status.NOT_FOUND, /es -> fr/],
    ['no targets', { ...REQUEST, targetLanguages: [] }, grpc.status.INVALID_ARGUMENT, /target_languages is empty/],
    ['repeated target', { ...REQUEST, targetLanguages: ['fr', 'FR'] }, grpc.status.INVALID_ARGUMENT, /repeats "FR"/],
    ['no org', { ...REQUEST, orgId: '' }, grpc.status.INVALID_ARGUMENT, /org_id must not be empty/],
    ['no source', { ...REQUEST, sourceLanguage: '' }, grpc.status.INVALID_ARGUMENT, /cannot detect languages; set source_language/],
    [
      'glossary for another target',
      { ...REQUEST, glossaries: [{ orgId: 'org-1', targetLanguage: 'de', version: 1, entries: [] }] },
      grpc.status.INVALID_ARGUMENT,
      /glossaries\[0\].target_language "de" is not one of target_languages/,
    ],
    [
      'two glossaries for a target',
      { ...REQUEST, glossaries: [{ orgId: 'o', targetLanguage: 'fr', version: 1 }, { orgId: 'o', targetLanguage: 'fr', version: 2 }] },
      grpc.status.INVALID_ARGUMENT,
      /two glossaries for target "fr"/,
    ],
    [
      'empty term',
      { ...REQUEST, glossaries: [{ orgId: 'o', targetLanguage: 'fr', version: 1, entries: [{ sourceTerm: ' ', targetTerm: 'x' }] }] },
      grpc.status.INVALID_ARGUMENT,
      /entries\[0\].source_term has no text/,
    ],
  ];
  for (const [name, request, code, details] of cases) {
    await t.rejects(translate(mt, request), { code, details }, name);
  }
  t.equal(engine.requests.length, 0, 'no bad request reached the engine');
});

t.test('RESOURCE_EXHAUSTED beyond maxStreams; engine errors keep their status', async (t) => {
  const { mt, engine } = await startWorker(t, new FakeTranslationEngine({ maxStreams: 1 }));
  engine.hold();
  const reached = onceEvent(engine.observer, 'request');
  const first = translate(mt, REQUEST);
  await reached;
  await t.rejects(translate(mt, REQUEST), { code: grpc.status.RESOURCE_EXHAUSTED });
  engine.release();
  t.equal((await first).results.length, 2);
  engine.failNext(new UnavailableError('apertium restarting'));
  await t.rejects(translate(mt, REQUEST), { code: grpc.status.UNAVAILABLE, details: 'apertium restarting' });
  engine.failNext(new QuotaExceededError('daily quota', 60_000));
  await t.rejects(translate(mt, REQUEST), { code: grpc.status.RESOURCE_EXHAUSTED, details: 'daily quota' });
});

import tap from 'tap';
import { MAX_TRANSLATE_TEXT_BYTES, MAX_TRANSLATE_TEXTS } from '../../../proto/src/index.js';
import { batchesOf, translateInBatches, type BatchedTranslateRequest } from '../src/batching.js';
import { callerFor, fakeWorker } from './_fakeWorkers.js';

tap.test('batchesOf: within the contract limits (texts per call, bytes per call)', async (t) => {
  const sizes = (texts: string[]) => batchesOf(texts).map((b) => b.length);
  const many = (n: number, text = 'x') => Array.from({ length: n }, () => text);
  const half = 'y'.repeat(MAX_TRANSLATE_TEXT_BYTES / 2);
  const table: [string, string[], number[]][] = [
    ['one text', ['hello'], [1]],
    ['exactly the text limit', many(MAX_TRANSLATE_TEXTS), [MAX_TRANSLATE_TEXTS]],
    ['one over the text limit', many(MAX_TRANSLATE_TEXTS + 1), [MAX_TRANSLATE_TEXTS, 1]],
    ['exactly the byte limit', [half, half], [2]],
    ['one byte over', [half, half, 'z'], [2, 1]],
    ['bytes counted in UTF-8', many(2, 'é'.repeat(MAX_TRANSLATE_TEXT_BYTES / 4 + 1)), [1, 1]],
    ['nothing', [], []],
  ];
  for (const [name, texts, expected] of table) t.same(sizes(texts), expected, name);
  t.same(batchesOf(['a', 'b', 'c']), [['a', 'b', 'c']], 'order kept');
});

tap.test('one engine, several targets: one call per batch, answers mapped back onto the texts', async (t) => {
  const { caller } = callerFor(t);
  const a = await fakeWorker(t, 'a');
  const texts = Array.from({ length: MAX_TRANSLATE_TEXTS + 2 }, (_, i) => `text ${i}`);
  const request: BatchedTranslateRequest = {
    texts,
    source: 'en',
    targets: ['de', 'fr'],
    orgId: 'org-1',
    purpose: 'chat',
    requestId: 'r-1',
    glossaries: [{ orgId: 'org-1', source: 'en', target: 'fr', version: 4, entries: [{ sourceTerm: 'text', targetTerm: 'texte' }] }],
  };
  const result = await translateInBatches(caller, 'a', a.picked, request);
  t.equal(a.engine.requests.length, 2, 'two calls: the text limit');
  t.same(a.engine.requests.map((r) => [r.texts.length, r.targets, r.purpose, r.glossaries.map((g) => `${g.target}@${g.version}`)]), [
    [MAX_TRANSLATE_TEXTS, ['de', 'fr'], 'chat', ['fr@4']],
    [2, ['de', 'fr'], 'chat', ['fr@4']],
  ]);
  t.ok(result.ok);
  const byKey = new Map(result.ok ? result.translations.map((x) => [`${x.target}:${x.textIndex}`, x.text]) : []);
  t.equal(byKey.size, texts.length * 2, 'every (text, target)');
  t.equal(byKey.get(`de:${MAX_TRANSLATE_TEXTS + 1}`), `[de] text ${MAX_TRANSLATE_TEXTS + 1}`, 'indexes of the second batch continue the first');
  t.equal(byKey.get('fr:0'), '[fr] texte 0', 'the target\'s glossary went along');
});

tap.test('a call of several batches fails as a whole', async (t) => {
  const { caller } = callerFor(t, { call: { maxRetries: 0 } });
  const a = await fakeWorker(t, 'a');
  const texts = Array.from({ length: MAX_TRANSLATE_TEXTS + 1 }, (_, i) => `text ${i}`);
  a.engine.failNext();
  const result = await translateInBatches(caller, 'a', a.picked, { texts, source: 'en', targets: ['de'], orgId: 'org-1', purpose: 'live', requestId: 'r-2', glossaries: [] });
  t.equal(!result.ok && result.reason, 'unavailable');
  t.equal(a.engine.requests.length, 2, 'both batches were sent');
});

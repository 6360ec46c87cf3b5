import * as grpc from '@grpc/grpc-js';
import tap from 'tap';
import { loadContract, type TranslateRequest, type TranslatorHandlers } from '../../../proto/src/index.js';
import { CancelledError, InternalError, InvalidArgumentError, onceEvent, TimeoutError, UnavailableError } from '../../sdk/src/index.js';
import { counterValue, type Test } from './_harness.js';
import { callerFor, fakeWorker, TIMEOUT_MS } from './_fakeWorkers.js';

const wire = (texts: string[], targets = ['de']): TranslateRequest => ({ texts, sourceLanguage: 'en', targetLanguages: targets, orgId: 'org-1', requestId: 'r-1' });

/** A Translator that answers every call with one translation too few: a broken worker. */
async function brokenWorker(t: Test): Promise<string> {
  const server = new grpc.Server();
  const handlers: TranslatorHandlers = { Translate: (_call, callback) => callback(null, { results: [] }) };
  server.addService(loadContract().Translator.service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  t.teardown(() => server.forceShutdown());
  return `127.0.0.1:${port}`;
}

tap.test('a retryable error is retried with backoff on the same worker, which is reported', async (t) => {
  const { caller, clock, registry, failedWorkers } = callerFor(t);
  const a = await fakeWorker(t, 'a');
  a.engine.failNext(new UnavailableError('a is down'));
  const pending = caller.translate('a', a.picked, wire(['hello', 'world'], ['de', 'fr']));
  const delay = await clock.nextTimer((ms) => ms !== TIMEOUT_MS);
  clock.advance(delay);
  const result = await pending;
  t.same(result.ok && result.translations.map((x) => `${x.target}:${x.textIndex}:${x.text}:${x.engine}`).sort(), [
    'de:0:[de] hello:a',
    'de:1:[de] world:a',
    'fr:0:[fr] hello:a',
    'fr:1:[fr] world:a',
  ]);
  t.equal(delay, 75, 'equal jitter with random=0.5: 50..100');
  t.equal(a.engine.requests.length, 2);
  t.same(failedWorkers, ['a-worker'], 'UNAVAILABLE steers later picks away from the worker');
  t.equal(await counterValue(registry, 'pc_translation_engine_calls_total', { engine: 'a', outcome: 'unavailable' }), 1);
  t.equal(await counterValue(registry, 'pc_translation_engine_calls_total', { engine: 'a', outcome: 'ok' }), 1);
});

tap.test('a non-retryable error is the outcome at once; retries stop at maxRetries', async (t) => {
  const { caller, failedWorkers } = callerFor(t, { call: { maxRetries: 0 } });
  const a = await fakeWorker(t, 'a');
  a.engine.failNext(new InvalidArgumentError('not for me'));
  const invalid = await caller.translate('a', a.picked, wire(['hello']));
  t.equal(invalid.ok, false);
  t.ok(!invalid.ok && invalid.error instanceof InvalidArgumentError);
  t.equal(!invalid.ok && invalid.reason, 'invalid_argument');
  t.equal(a.engine.requests.length, 1, 'no retry');
  t.same(failedWorkers, [], 'the worker answered');

  a.engine.failNext(new UnavailableError('a is down'));
  const down = await caller.translate('a', a.picked, wire(['hello']));
  t.equal(!down.ok && down.reason, 'unavailable', 'maxRetries 0: no second attempt');
  t.equal(a.engine.requests.length, 2);
});

tap.test('the breaker opens after the threshold, refuses calls without reaching the worker, admits a probe after the cooldown', async (t) => {
  const { caller, clock, registry } = callerFor(t, { call: { maxRetries: 0 } });
  const a = await fakeWorker(t, 'a');
  for (let i = 0; i < 3; i++) {
    a.engine.failNext(new UnavailableError('a is down'));
    await caller.translate('a', a.picked, wire([`line ${i}`]));
  }
  t.notOk(caller.admits('a'));
  t.equal(await counterValue(registry, 'pc_translation_breaker_open', { engine: 'a' }), 1);
  const refused = await caller.translate('a', a.picked, wire(['refused']));
  t.equal(!refused.ok && refused.reason, 'breaker_open');
  t.ok(!refused.ok && refused.error instanceof UnavailableError);
  t.equal(a.engine.requests.length, 3, 'the worker was not called');
  t.ok(caller.admits('b'), 'breakers are per engine');

  clock.advance(10_000);
  t.ok(caller.admits('a'), 'half-open after the cooldown');
  t.ok((await caller.translate('a', a.picked, wire(['probe']))).ok);
  t.equal(await counterValue(registry, 'pc_translation_breaker_open', { engine: 'a' }), 0, 'closed by a good probe');
});

tap.test('the timeout runs on the injected clock and cancels the call', async (t) => {
  const { caller, clock, failedWorkers } = callerFor(t, { call: { maxRetries: 0 } });
  const a = await fakeWorker(t, 'a');
  a.engine.hold();
  const pending = caller.translate('a', a.picked, wire(['slow']));
  t.equal(await clock.nextTimer((ms) => ms === TIMEOUT_MS), TIMEOUT_MS);
  clock.advance(TIMEOUT_MS);
  const result = await pending;
  t.ok(!result.ok && result.error instanceof TimeoutError);
  t.equal(!result.ok && result.reason, 'timeout');
  t.same(failedWorkers, ['a-worker']);
});

tap.test('an abort rejects with CancelledError', async (t) => {
  const { caller } = callerFor(t);
  const a = await fakeWorker(t, 'a');
  a.engine.hold();
  const abort = new AbortController();
  const reached = onceEvent(a.engine.observer, 'request');
  const pending = caller.translate('a', a.picked, wire(['never mind']), abort.signal);
  await reached;
  abort.abort();
  await t.rejects(pending, CancelledError);
  t.ok(caller.admits('a'), 'a cancelled call says nothing about the engine');
});

tap.test('an answer that misses a (text, target) is an internal failure of the engine', async (t) => {
  const { caller, registry } = callerFor(t);
  const address = await brokenWorker(t);
  const result = await caller.translate('broken', { address }, wire(['hello']));
  t.ok(!result.ok && result.error instanceof InternalError);
  t.equal(!result.ok && result.reason, 'internal', 'not retried: the same worker would answer the same');
  t.equal(await counterValue(registry, 'pc_translation_engine_calls_total', { engine: 'broken', outcome: 'ok' }), 1);
  t.equal(caller.channelsForTesting, 1);
});

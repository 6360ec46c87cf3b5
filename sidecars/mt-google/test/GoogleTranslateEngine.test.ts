import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import tap from 'tap';
import { GoogleTranslateStandIn } from '../../../test/standins/GoogleTranslateStandIn.js';
import {
  CancelledError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PolyglotError,
  QuotaExceededError,
  UnavailableError,
  type TranslationRequest,
} from '../../sdk/src/index.js';
import { GoogleTranslateEngine } from '../src/GoogleTranslateEngine.js';

const ORG = '7d0c3a52-0000-4000-8000-000000000001';
const log = pino({ level: 'silent' });

async function setup(t: Pick<typeof tap, 'teardown'>) {
  const standIn = await GoogleTranslateStandIn.start();
  const engine = new GoogleTranslateEngine({
    projectId: 'test-project',
    languages: ['en', 'de', 'fr'],
    // Loopback only: insecure channel, and universeDomain set so nothing probes a metadata server.
    clientOptions: { apiEndpoint: '127.0.0.1', port: standIn.port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' },
    log,
  });
  t.teardown(async () => {
    await engine.close();
    standIn.close();
  });
  return { standIn, engine };
}

const request = (over: Partial<TranslationRequest> = {}): TranslationRequest => ({
  texts: ['good morning', '', 'the keynote starts'],
  source: 'en',
  targets: ['de', 'fr'],
  glossaries: [],
  purpose: 'live',
  orgId: ORG,
  requestId: 'r1',
  ...over,
});

tap.test('one TranslateText call per target carries every text', async (t) => {
  const { standIn, engine } = await setup(t);
  const out = await engine.translate(request(), new AbortController().signal);
  t.equal(standIn.calls.length, 2, 'two targets, two calls');
  t.same(standIn.calls.map((c) => [c.target, c.contents]), [
    ['de', ['good morning', 'the keynote starts']],
    ['fr', ['good morning', 'the keynote starts']],
  ], 'the empty text is not sent');
  t.equal(standIn.calls[0]?.parent, 'projects/test-project/locations/us-central1');
  t.same(
    out.map((r) => [r.target, r.textIndex, r.text, r.engine]),
    [
      ['de', 0, '[de] good morning', 'google'],
      ['de', 1, '', 'google'],
      ['de', 2, '[de] the keynote starts', 'google'],
      ['fr', 0, '[fr] good morning', 'google'],
      ['fr', 1, '', 'google'],
      ['fr', 2, '[fr] the keynote starts', 'google'],
    ],
  );
});

tap.test('a glossary version selects the provisioned Google glossary', async (t) => {
  const { standIn, engine } = await setup(t);
  const glossary = { orgId: ORG, source: 'en', target: 'de', version: 4, entries: [{ sourceTerm: 'keynote', targetTerm: 'Hauptvortrag' }] };
  standIn.glossaries.set(engine.glossaryName(glossary), new Map([['keynote', 'Hauptvortrag']]));
  const out = await engine.translate(request({ targets: ['de', 'fr'], glossaries: [glossary] }), new AbortController().signal);
  t.equal(out.find((r) => r.target === 'de' && r.textIndex === 2)?.text, '[de] the Hauptvortrag starts');
  t.equal(out.find((r) => r.target === 'fr' && r.textIndex === 2)?.text, '[fr] the keynote starts', 'no glossary for fr');
  t.match(standIn.calls[0]?.glossary, /glossaries\/pc-7d0c3a52-.*-en-de-v4$/);

  const err = await engine.translate(request({ glossaries: [{ ...glossary, version: 5 }] }), new AbortController().signal).catch((e: unknown) => e);
  t.ok(err instanceof NotFoundError, 'a version nobody provisioned is NOT_FOUND');
  t.equal(PolyglotError.is(err) && err.retryable, false);
});

tap.test('provider statuses map onto SDK errors, and the engine never retries', async (t) => {
  const { standIn, engine } = await setup(t);
  const cases: [grpc.status, new (...args: never[]) => PolyglotError, boolean][] = [
    [grpc.status.UNAVAILABLE, UnavailableError, true],
    [grpc.status.RESOURCE_EXHAUSTED, QuotaExceededError, true],
    [grpc.status.INVALID_ARGUMENT, InvalidArgumentError, false],
    [grpc.status.NOT_FOUND, NotFoundError, false],
    [grpc.status.PERMISSION_DENIED, InternalError, false],
  ];
  for (const [code, cls, retryable] of cases) {
    const before = standIn.calls.length;
    standIn.failNext(code);
    const err = await engine.translate(request({ targets: ['de'] }), new AbortController().signal).catch((e: unknown) => e);
    t.ok(err instanceof cls, `${grpc.status[code]} -> ${cls.name}`);
    t.equal(PolyglotError.is(err) && err.retryable, retryable, `${grpc.status[code]} retryable=${retryable}`);
    t.equal(standIn.calls.length - before, 1, `${grpc.status[code]}: exactly one provider call`);
  }
});

tap.test('aborting the signal rejects at once with CancelledError', async (t) => {
  const { standIn, engine } = await setup(t);
  standIn.hangNext();
  const abort = new AbortController();
  const pending = engine.translate(request({ targets: ['de'] }), abort.signal);
  abort.abort();
  const err = await pending.catch((e: unknown) => e);
  t.ok(err instanceof CancelledError);
});

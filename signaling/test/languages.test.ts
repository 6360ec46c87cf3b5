/**
 * Caption languages at the signaling edge: canonical tags (ES and es are one stream), only the
 * languages the deployment serves (the translation workers' announcements, or an allow list), and
 * a bound per session, with documented error codes; the other viewers notice nothing.
 */
import { randomUUID } from 'node:crypto';
import tap from 'tap';
import { CaptionPublisher } from '../../core/src/captions/CaptionPublisher.js';
import { DemandWatcher } from '../../core/src/captions/DemandWatcher.js';
import { onceEvent } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import { WORKER_ANNOUNCE_SUBJECT } from '../../core/src/subjects.js';
import { encodeWorkerMessage } from '../../core/src/workers/workerMessage.js';
import { ScriptedCaptions, finalsThrough, liveFeedOpen, setLanguage } from './fixtures/captions.js';
import { mint, seedSession, startSignaling, testBackends, type Teardown, type TestSignaling } from './fixtures/signaling.js';
import { TestClient } from './fixtures/TestClient.js';

const backends = testBackends(tap);

async function viewer(s: TestSignaling, claims: { org: string; session: string }): Promise<TestClient> {
  return (await TestClient.authenticated(s.wsUrl, await mint({ ...claims, sub: `v-${randomUUID().slice(0, 6)}` }))).client;
}

/** The session's demand as the caption pipeline reads it, once `done` holds. */
async function demandOf(s: TestSignaling, session: string, done: (langs: ReadonlySet<string>) => boolean): Promise<ReadonlySet<string>> {
  const watcher = await DemandWatcher.open(s.nc, session, moduleLog('languages-test'));
  try {
    while (!done(watcher.langs)) await onceEvent(watcher, 'change');
    return new Set(watcher.langs);
  } finally {
    await watcher.close();
  }
}

/** A translation worker's announcement (en -> es, so every Spanish region), heard by the server before this returns. */
async function announceSpanishWorker(s: TestSignaling): Promise<void> {
  const id = `mt-${randomUUID().slice(0, 8)}`;
  s.nc.publish(
    WORKER_ANNOUNCE_SUBJECT,
    encodeWorkerMessage({ v: 1, type: 'announce', id, kind: 'TRANSLATION', engine: 'fake', pairs: [{ source: 'en', target: 'es' }], address: '127.0.0.1:1', maxStreams: 0, activeStreams: 0, ttlMs: 60_000 }),
  );
  // The server reads announcements on this same connection: the flush's round trip comes after it.
  await s.nc.flush();
}

/** The server's registry mode (no allow list), past its warm-up, with a worker offering en -> es. */
async function registryServer(t: Teardown, maxPerSession = 16): Promise<TestSignaling> {
  const s = await startSignaling(t, { languages: { maxPerSession, allowed: undefined }, languageOfferWarmUpMs: 0 }, await backends);
  await announceSpanishWorker(s);
  return s;
}

tap.test('ES and es are one language: one channel, one seq sequence, one demand entry', async (t) => {
  const s = await registryServer(t);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const pub = await ScriptedCaptions.open(s.nc, session.id);
  const upper = await viewer(s, claims);
  const lower = await viewer(s, claims);
  const ready = liveFeedOpen(s.server, session.id, 'es');
  upper.send({ type: 'setLanguage', id: 1, language: 'ES' });
  t.match(await upper.next('languageSet'), { id: 1, language: 'es' }, 'the reply names the canonical tag');
  await setLanguage(lower, 'es');
  await ready;
  t.same([...(s.server.hub.roomsForTesting().get(session.id)?.channelsForTesting().keys() ?? [])], ['es'], 'one channel');

  for (let seq = 1; seq <= 3; seq++) await pub.final('es', seq);
  const a = await finalsThrough(upper, 3);
  const b = await finalsThrough(lower, 3);
  t.same(a.map((c) => [c.lang, c.seq]), [['es', 1], ['es', 2], ['es', 3]]);
  t.same(b.map((c) => [c.lang, c.seq]), [['es', 1], ['es', 2], ['es', 3]], 'the same stream, the same seqs');

  t.same([...(await demandOf(s, session.id, (l) => l.size > 0))], ['es'], 'the node asks the pipeline for one language');
});

tap.test('65 variants from one viewer (many tabs): errors with documented codes, and the Spanish viewers keep their finals', async (t) => {
  const s = await registryServer(t);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const pub = await ScriptedCaptions.open(s.nc, session.id);
  const honest = await viewer(s, claims);
  const ready = liveFeedOpen(s.server, session.id, 'es');
  await setLanguage(honest, 'es');
  await ready;

  const codes = new Map<string, number>();
  const answer = async (client: TestClient, id: number): Promise<string> => {
    for (;;) {
      const m = await client.next();
      if (m.type === 'languageSet' && m.id === id) return `ok:${m.language}`;
      if (m.type === 'error' && m.id === id) {
        codes.set(m.code, (codes.get(m.code) ?? 0) + 1);
        return m.code;
      }
    }
  };
  // es-2, es-4 ... es-64: not language tags.
  const tab = await viewer(s, claims);
  for (let i = 2; i <= 64; i += 2) {
    tab.send({ type: 'setLanguage', id: i, language: `es-${i}` });
    await answer(tab, i);
  }
  // es-AA ... es-BG (33 regions): tags an en -> es worker would take, one tab each.
  const accepted: string[] = [];
  for (let k = 0; k < 33; k++) {
    const language = `es-${String.fromCharCode(65 + Math.floor(k / 26), 65 + (k % 26))}`;
    const client = await viewer(s, claims);
    client.send({ type: 'setLanguage', id: k, language });
    const result = await answer(client, k);
    if (result.startsWith('ok:')) accepted.push(result.slice(3)); // canonical: es-AN is es-CW
    if (k % 4 === 0) await pub.final('es', k / 4 + 1);
  }
  t.equal(codes.get('invalid_message'), 32, 'not tags: invalid_message');
  t.equal(accepted.length, 15, 'the session bound (16, Spanish included)');
  t.equal(codes.get('language_limit'), 33 - 15, 'every variant past the bound: language_limit');
  t.same((await finalsThrough(honest, 9)).map((c) => c.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'the honest viewer got every final meanwhile, in order');

  t.equal(accepted.length + 1, 16);
  const langs = await demandOf(s, session.id, (l) => l.size === 16);
  t.same([...langs].sort(), ['es', ...accepted].sort(), "the node's demand: the bound, not one more");
});

tap.test('a language no worker translates (nor in the allow list) is refused with unsupported_language; the socket keeps its language', async (t) => {
  const s = await registryServer(t);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const client = await viewer(s, claims);
  await setLanguage(client, 'es-MX');
  client.send({ type: 'setLanguage', id: 'x', language: 'tlh' });
  t.match(await client.next('error'), { id: 'x', code: 'unsupported_language', message: /not available/ });
  await setLanguage(client, 'en'); // the spoken language is always there
  t.equal(s.server.hub.roomsForTesting().get(session.id)?.channelsForTesting().has('tlh'), false);

  const allowList = await startSignaling(t, { languages: { maxPerSession: 16, allowed: ['fr'] } }, await backends);
  const other = await seedSession(allowList.server);
  const c2 = await viewer(allowList, { org: other.organizationId, session: other.id });
  await setLanguage(c2, 'FR');
  c2.send({ type: 'setLanguage', id: 2, language: 'es' });
  t.match(await c2.next('error'), { id: 2, code: 'unsupported_language' }, 'with an allow list, the workers do not decide');
});

tap.test("the pipeline's word on a language reaches its viewers: once per change, and to a viewer who comes later", async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const publisher = new CaptionPublisher({ nc: s.nc, jsm: await s.nc.jetstreamManager(), session: session.id, log: moduleLog('languages-test') });
  const pub = await ScriptedCaptions.open(s.nc, session.id);
  const first = await viewer(s, claims);
  const spanish = await viewer(s, claims);
  const ready = Promise.all([liveFeedOpen(s.server, session.id, 'ca'), liveFeedOpen(s.server, session.id, 'es')]);
  await setLanguage(first, 'ca');
  await setLanguage(spanish, 'es');
  await ready;

  await publisher.publishLanguageStatus('ca', { state: 'untranslatable', reason: 'no_engine' });
  await publisher.publishLanguageStatus('ca', { state: 'untranslatable', reason: 'no_engine' }); // repeated at every final
  t.same(await first.next('languageStatus'), { type: 'languageStatus', lang: 'ca', state: 'untranslatable', reason: 'no_engine' });

  const later = await viewer(s, claims);
  await setLanguage(later, 'ca');
  t.match(await later.next('captionsLive'), { lang: 'ca' });
  t.same(await later.next('languageStatus'), { type: 'languageStatus', lang: 'ca', state: 'untranslatable', reason: 'no_engine' }, 'a later viewer is told at once');

  await publisher.publishLanguageStatus('ca', { state: 'translating' });
  await pub.final('ca', 1);
  t.same(await first.next('languageStatus'), { type: 'languageStatus', lang: 'ca', state: 'translating' });
  t.match(await first.next('caption'), { lang: 'ca', seq: 1 }, 'then its captions');
  t.equal(first.pending().filter((m) => m.type === 'languageStatus').length, 0, 'the repeat was not sent again');
  await pub.final('es', 1);
  await spanish.next('caption');
  t.equal(spanish.history.filter((m) => m.type === 'languageStatus').length, 0, 'other languages hear nothing of it');
});

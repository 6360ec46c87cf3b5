/**
 * Caption fan-out on real NATS (JetStream for finals, core NATS for interims) and real signaling
 * nodes; captions are published straight to NATS as the SFU's pipeline does.
 */
import { randomUUID } from 'node:crypto';
import type { KvEntry } from 'nats';
import tap from 'tap';
import { demandValueSchema, openDemandBucket, type DemandValue } from '../../core/src/captions/demandBucket.js';
import { demandKey } from '../../core/src/subjects.js';
import { DemandWatcher, type DemandWatcherEvents } from '../../core/src/captions/DemandWatcher.js';
import { onceEvent } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import { privateNats } from './fixtures/media.js';
import { ScriptedCaptions, finalsThrough, liveFeedOpen, nextFinal, setLanguage, type Caption } from './fixtures/captions.js';
import { mint, seedSession, startSignaling, testBackends, type TestSignaling } from './fixtures/signaling.js';
import { TestClient } from './fixtures/TestClient.js';

const backends = testBackends(tap);
const log = moduleLog('captions-test');

async function viewer(s: TestSignaling, claims: { org: string; session: string }, sub = `v-${randomUUID().slice(0, 6)}`): Promise<TestClient> {
  return (await TestClient.authenticated(s.wsUrl, await mint({ ...claims, sub }))).client;
}

const seqs = (captions: readonly Caption[]): number[] => captions.map((c) => c.seq);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

tap.test('two viewers of different languages each get only their language, interims then finals', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const pub = await ScriptedCaptions.open(s.nc, session.id);
  const es = await viewer(s, claims);
  const fr = await viewer(s, claims);
  const ready = Promise.all([liveFeedOpen(s.server, session.id, 'es'), liveFeedOpen(s.server, session.id, 'fr')]);
  await setLanguage(es, 'es');
  await setLanguage(fr, 'fr');
  await ready;
  t.same(await es.next('captionsLive'), { type: 'captionsLive', lang: 'es', seq: -1 }, 'no afterSeq: live at once');

  await pub.interim('es', 1);
  t.match(await es.next('caption'), { lang: 'es', seq: 1, final: false, text: 'es 1 …', speakerName: 'Ada' }, 'the interim arrives first');
  await pub.final('es', 1);
  await pub.final('fr', 1);
  await pub.interim('fr', 2);
  await pub.final('fr', 2);
  await pub.final('es', 2);
  t.same(seqs(await finalsThrough(es, 2)), [1, 2]);
  t.same(seqs(await finalsThrough(fr, 2)), [1, 2]);
  t.match(fr.pending().filter((m) => m.type === 'caption'), [{ type: 'caption', lang: 'fr', seq: 2, final: false }], 'the fr interim, behind nothing else');

  // Marker finals: by the time each arrives, a misrouted caption would have arrived too.
  await pub.final('fr', 3);
  await pub.final('es', 3);
  await nextFinal(es);
  await nextFinal(fr);
  const langsSeen = (c: TestClient): string[] => [...new Set(c.history.flatMap((m) => (m.type === 'caption' ? [m.lang] : [])))];
  t.same(langsSeen(es), ['es'], 'the es viewer got Spanish only');
  t.same(langsSeen(fr), ['fr'], 'the fr viewer got French only');
  const room = s.server.hub.roomsForTesting().get(session.id);
  t.same([...(room?.channelsForTesting().keys() ?? [])].sort(), ['es', 'fr'], 'one channel per language with local readers');
  await Promise.all([es.close(), fr.close()]);
  t.equal(s.server.hub.roomsForTesting().size, 0, 'the room and its channels go with the last socket');
});

tap.test('each caption is serialized once per node, whatever the number of sockets', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const pub = await ScriptedCaptions.open(s.nc, session.id);
  const encoded: Array<[boolean, string]> = [];
  let written = 0;
  s.server.hub.captionObserver.on('encoded', (final, source) => encoded.push([final, source]));
  s.server.hub.captionObserver.on('written', () => (written += 1));

  const readers = await Promise.all([1, 2, 3].map(() => viewer(s, claims)));
  const ready = liveFeedOpen(s.server, session.id, 'es');
  for (const r of readers) await setLanguage(r, 'es');
  await ready;
  for (let seq = 1; seq <= 5; seq++) {
    await pub.interim('es', seq);
    await pub.final('es', seq);
  }
  for (const r of readers) t.same(seqs(await finalsThrough(r, 5)), range(1, 5));
  t.same(encoded.filter(([, src]) => src === 'live').length, 10, '5 interims + 5 finals: 10 serializations for 3 sockets');
  t.equal(encoded.filter(([, src]) => src === 'replay').length, 0, 'live readers need no replay');
  t.ok(written >= 15 && written <= 30, `the same frames were written ${written} times (15 finals + the interims that were not stale)`);
  const metrics = await (await fetch(`${s.metricsBase}/metrics`)).text();
  t.match(metrics, /pc_signaling_captions_encoded_total\{kind="final",source="live",node="[^"]+"\} 5/);
  t.match(metrics, /pc_signaling_caption_delivery_seconds_count\{node="[^"]+",kind="final"\} 15/, 'the latency histogram has one sample per final per socket');
  t.match(metrics, /pc_signaling_caption_channels\{node="[^"]+"\} 1/);
  await Promise.all(readers.map((r) => r.close()));
});

tap.test('switching language: the new one at once (history first), nothing more of the old', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const pub = await ScriptedCaptions.open(s.nc, session.id);
  await pub.finals('fr', 1, 3); // French history before anyone reads it

  const client = await viewer(s, claims);
  const esReady = liveFeedOpen(s.server, session.id, 'es');
  await setLanguage(client, 'es', -1);
  await esReady;
  await pub.final('es', 1);
  t.match(await nextFinal(client), { lang: 'es', seq: 1 });

  const frReady = liveFeedOpen(s.server, session.id, 'fr');
  const switchedAt = performance.now();
  await setLanguage(client, 'fr', -1);
  const history = await finalsThrough(client, 3);
  const historyMs = performance.now() - switchedAt;
  t.same(history.map((c) => [c.lang, c.seq]), [['fr', 1], ['fr', 2], ['fr', 3]], `the French history, in ${historyMs.toFixed(1)} ms`);
  const room = s.server.hub.roomsForTesting().get(session.id);
  t.same([...(room?.channelsForTesting().keys() ?? [])], ['fr'], 'the es channel closed with its last reader');
  await frReady;
  await pub.final('es', 2);
  await pub.interim('es', 3);
  await pub.final('fr', 4);
  t.match(await nextFinal(client), { lang: 'fr', seq: 4 }, 'live French');
  t.same(client.pending().filter((m) => m.type === 'caption'), [], 'no Spanish after the switch');
  await client.close();
});

tap.test('a socket that reconnects with its last seq gets exactly the finals it missed, on the same node and on another', async (t) => {
  const b = await backends;
  const nodeA = await startSignaling(t, {}, b);
  const nodeB = await startSignaling(t, {}, b);
  const session = await seedSession(nodeA.server);
  const claims = { org: session.organizationId, session: session.id };
  const pub = await ScriptedCaptions.open(b.nc, session.id);
  const replays: string[] = [];
  nodeA.server.hub.captionObserver.on('replay', (from) => replays.push(`A:${from}`));
  nodeB.server.hub.captionObserver.on('replay', (from) => replays.push(`B:${from}`));

  // Another reader keeps node A's channel (and its recent finals) open throughout.
  const stayer = await viewer(nodeA, claims);
  const ready = liveFeedOpen(nodeA.server, session.id, 'es');
  await setLanguage(stayer, 'es', -1);
  await ready;
  let mover = await viewer(nodeA, claims);
  await setLanguage(mover, 'es', -1);
  await pub.finals('es', 1, 3);
  const received = await finalsThrough(mover, 3);
  await mover.close();

  // Missed while away; then back on node A, where the recent finals are in memory.
  await pub.finals('es', 4, 6);
  await finalsThrough(stayer, 6);
  mover = await viewer(nodeA, claims);
  await setLanguage(mover, 'es', 3);
  received.push(...(await finalsThrough(mover, 6)));
  await pub.final('es', 7);
  received.push(await nextFinal(mover));
  t.same(seqs(received), range(1, 7), 'same node: 4-6 replayed, 7 live, nothing twice');
  await mover.close();

  // Away again; this time it lands on node B, which has no channel for the session: JetStream.
  await pub.finals('es', 8, 10);
  mover = await viewer(nodeB, claims);
  // Keep publishing while it catches up: the hand-over from its replay to the shared feed must
  // neither skip nor repeat a final that arrives in the middle of it.
  const publishing = pub.finals('es', 11, 40);
  await setLanguage(mover, 'es', 7);
  await publishing;
  received.push(...(await finalsThrough(mover, 40)));
  t.same(seqs(received), range(1, 40), 'another node: 8-10 replayed from JetStream, 11-40 while catching up, each once');
  t.same(mover.pending().filter((m) => m.type === 'caption' && m.final), [], 'no final twice');
  t.ok(replays.includes('A:memory'), `node A served the same-node resume from memory (${replays.join(', ')})`);
  t.ok(replays.includes('B:stream'), 'node B replayed from JetStream');
  await Promise.all([mover.close(), stayer.close()]);
});

tap.test('a late viewer sees the session so far (afterSeq -1), then live', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const pub = await ScriptedCaptions.open(s.nc, session.id);
  await pub.finals('de', 1, 10);
  const late = await viewer(s, claims);
  await setLanguage(late, 'de', -1);
  t.same(seqs(await finalsThrough(late, 10)), range(1, 10));
  t.same(await late.next('captionsLive'), { type: 'captionsLive', lang: 'de', seq: 10 }, 'told when the history is over');
  const markerAt = late.history.findIndex((m) => m.type === 'captionsLive');
  t.equal(markerAt, late.history.findIndex((m) => m.type === 'caption' && m.seq === 10) + 1, 'right behind the last replayed final');
  await pub.final('de', 11);
  t.match(await nextFinal(late), { seq: 11 });
  await late.close();
});

type DemandChange = DemandWatcherEvents['change'][0];

tap.test('the demand board follows joins, switches and leaves, with per-node viewer counts', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const watcher = await DemandWatcher.open(s.nc, session.id, log);
  t.teardown(() => watcher.close());
  const kv = await openDemandBucket(s.nc);
  const key = demandKey(session.id, s.server.hub.nodeId);
  const watch = await kv.watch({ key });
  t.teardown(() => watch.stop());
  const entries = watch[Symbol.asyncIterator]();
  /** The node's entry once it satisfies `want` (KV writes are asynchronous). */
  const entryWhere = async (want: (v: DemandValue | undefined) => boolean): Promise<DemandValue | undefined> => {
    for (;;) {
      const e = await entries.next();
      if (e.done) throw new Error('watch ended');
      const value = decodeEntry(e.value);
      if (want(value)) return value;
    }
  };
  const change = (): Promise<DemandChange> => onceEvent(watcher, 'change').then(([c]) => c);

  const a = await viewer(s, claims);
  const b = await viewer(s, claims);
  let next = change();
  await setLanguage(a, 'es');
  t.match(await next, { added: ['es'], removed: [] }, 'join: es is wanted');
  await setLanguage(b, 'es');
  t.same((await entryWhere((v) => v?.viewers?.es === 2))?.langs, ['es'], 'a second es viewer: same languages, count 2');

  next = change();
  await setLanguage(b, 'ja');
  t.match(await next, { added: ['ja'], removed: [] }, 'switch: ja is wanted');
  t.same((await entryWhere((v) => v?.viewers?.ja === 1 && v.viewers.es === 1))?.langs.sort(), ['es', 'ja']);

  next = change();
  await a.close();
  t.match(await next, { added: [], removed: ['es'] }, 'leave: es is wanted by nobody now');
  next = change();
  await b.close();
  t.match(await next, { removed: ['ja'] });
  t.equal(await entryWhere((v) => v === undefined), undefined, "the node's entry is deleted with its last reader");
  t.same([...watcher.langs], []);
});

function decodeEntry(entry: KvEntry): DemandValue | undefined {
  if (entry.operation !== 'PUT') return undefined;
  return demandValueSchema.parse(JSON.parse(entry.string()));
}

tap.test('hosts get the source transcript and viewer counts per language across nodes', async (t) => {
  const b = await backends;
  const nodeA = await startSignaling(t, {}, b);
  const nodeB = await startSignaling(t, {}, b);
  const session = await seedSession(nodeA.server);
  const claims = { org: session.organizationId, session: session.id };
  const pub = await ScriptedCaptions.open(b.nc, session.id, session.sourceLanguage);

  const { client: host } = await TestClient.authenticated(nodeA.wsUrl, await mint({ ...claims, role: 'host', sub: 'h' }));
  const ready = liveFeedOpen(nodeA.server, session.id, 'en');
  await setLanguage(host, session.sourceLanguage, -1);
  await ready;
  const v1 = await viewer(nodeA, claims);
  const v2 = await viewer(nodeB, claims);
  const v3 = await viewer(nodeB, claims);
  await setLanguage(v1, 'es');
  await setLanguage(v2, 'es');
  await setLanguage(v3, 'fr');
  const counts = await host.nextMatching('viewerCount', (m) => m.byLanguage.es === 2 && m.byLanguage.fr === 1);
  t.same(counts, { type: 'viewerCount', count: 3, byLanguage: { es: 2, fr: 1 } }, 'viewers per language, summed over both nodes');

  await pub.interim('en', 1, 'good morn');
  await pub.final('en', 1, 'Good morning everyone.');
  t.match(await host.nextMatching('caption', (c) => !c.final), { lang: 'en', text: 'good morn' }, 'the live transcript, interims included');
  t.match(await nextFinal(host), { lang: 'en', seq: 1, text: 'Good morning everyone.' });

  await setLanguage(v3, 'es');
  t.same((await host.nextMatching('viewerCount', (m) => m.byLanguage.es === 3)).byLanguage, { es: 3 }, 'a switch on the other node moves the count');
  // Counts pushed while the viewers were still arriving (count 2, no language yet) stay queued: not the one meant below.
  host.drain('viewerCount');
  await v2.close();
  t.same(await host.nextMatching('viewerCount', (m) => m.count === 2), { type: 'viewerCount', count: 2, byLanguage: { es: 2 } });
  await Promise.all([host.close(), v1.close(), v3.close()]);
});

tap.test('a node that starts before the caption stream exists picks the finals up once it does', async (t) => {
  const { db } = await backends;
  const { nc } = await privateNats(t); // a NATS of its own, with no PC_CAPTIONS stream yet
  const s = await startSignaling(t, {}, { db, nc });
  const session = await seedSession(s.server);
  const client = await viewer(s, { org: session.organizationId, session: session.id });
  const ready = liveFeedOpen(s.server, session.id, 'es');
  await setLanguage(client, 'es', -1);
  const pub = await ScriptedCaptions.open(nc, session.id); // creates the stream
  await ready; // the channel retried with backoff until the stream appeared
  await pub.final('es', 1);
  t.match(await nextFinal(client), { lang: 'es', seq: 1 });
  await client.close();
});

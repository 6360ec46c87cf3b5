/**
 * The per-socket caption queue against a client that stops reading (its TCP socket paused, so the
 * kernel buffers fill and ws's bufferedAmount grows): interims go first, finals are never dropped,
 * and past the bound the socket is closed with 4408, after which the client resumes.
 */
import { Socket } from 'node:net';
import tap from 'tap';
import { ScriptedCaptions, finalsThrough, liveFeedOpen, setLanguage, type Caption } from './fixtures/captions.js';
import { mint, seedSession, startSignaling, testBackends } from './fixtures/signaling.js';
import { TestClient } from './fixtures/TestClient.js';

const backends = testBackends(tap);

tap.test('a client that stops reading loses interims first, then is closed 4408 with no final missing, while a fast viewer keeps up', async (t) => {
  const queue = { highWaterBytes: 16 * 1024, maxQueuedFinals: 8, maxQueuedInterims: 2 };
  const s = await startSignaling(t, { limits: { captionQueue: queue } }, await backends);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const pub = await ScriptedCaptions.open(s.nc, session.id);
  const events: string[] = [];
  s.server.hub.captionObserver.on('interimDropped', () => events.push('interimDropped'));
  s.server.hub.captionObserver.on('slowConsumer', () => events.push('slowConsumer'));
  const closing: number[] = [];
  s.server.hub.observer.on('closing', (code) => closing.push(code));

  const { client: fast } = await TestClient.authenticated(s.wsUrl, await mint({ ...claims, sub: 'fast' }));
  const { client: slow } = await TestClient.authenticated(s.wsUrl, await mint({ ...claims, sub: 'slow' }));
  const ready = liveFeedOpen(s.server, session.id, 'es');
  await setLanguage(fast, 'es', -1);
  await setLanguage(slow, 'es', -1);
  await ready;

  const tcp: unknown = Reflect.get(slow.ws, '_socket');
  if (!(tcp instanceof Socket)) throw new Error('ws client has no net.Socket');
  tcp.pause();

  // 8 KiB captions fill the socket buffers in a few hundred; each segment gets three interims.
  const text = (seq: number, n: string): string => `${seq}:${n}:`.padEnd(8 * 1024, 'x');
  let interimsPublished = 0;
  let last = 0;
  const BOUND = 5_000; // only ends a run that would otherwise never stop
  while (!events.includes('slowConsumer') && last < BOUND) {
    last += 1;
    for (const n of ['a', 'b', 'c']) {
      await pub.interim('es', last, text(last, n));
      interimsPublished += 1;
    }
    await pub.final('es', last, text(last, 'final'));
  }
  t.ok(events.includes('slowConsumer'), `the slow socket was cut off after ${last} segments`);
  const firstDrop = events.indexOf('interimDropped');
  t.ok(firstDrop >= 0 && firstDrop < events.indexOf('slowConsumer'), `interims were dropped first (${events.filter((e) => e === 'interimDropped').length} of them)`);
  t.same(closing, [4408], 'closed with the resume code');

  // The fast viewer never noticed.
  await pub.finals('es', last + 1, last + 3);
  const fastFinals = await finalsThrough(fast, last + 3);
  t.same(fastFinals.map((c) => c.seq), Array.from({ length: last + 3 }, (_, i) => i + 1), 'the fast viewer got every final, in order');

  // The slow one reads what it was sent: every final up to the cut, none skipped, then 4408.
  tcp.resume();
  const closed = await slow.closed;
  t.equal(closed.code, 4408);
  const got = slow.history.filter((m): m is Caption => m.type === 'caption');
  const finals = got.filter((c) => c.final).map((c) => c.seq);
  const interims = got.filter((c) => !c.final).length;
  t.same(finals, Array.from({ length: finals.length }, (_, i) => i + 1), `finals 1-${finals.length} arrived, none missing`);
  t.ok(finals.length < last, 'the backlog behind them was dropped with the socket');
  t.ok(interims < interimsPublished, `interims were thinned: ${interims} of ${interimsPublished} arrived`);
  const metrics = await (await fetch(`${s.metricsBase}/metrics`)).text();
  t.match(metrics, /pc_signaling_slow_consumer_closes_total\{node="[^"]+"\} 1/);
  t.match(metrics, /pc_signaling_interims_dropped_total\{node="[^"]+"\} [1-9]/);

  // It reconnects and resumes from its last final: the rest, each once.
  const { client: back } = await TestClient.authenticated(s.wsUrl, await mint({ ...claims, sub: 'slow' }));
  await setLanguage(back, 'es', finals[finals.length - 1] ?? -1);
  const resumed = await finalsThrough(back, last + 3);
  t.same(resumed.map((c) => c.seq), Array.from({ length: last + 3 - finals.length }, (_, i) => finals.length + 1 + i), 'resumed with no gap and no repeat');
  t.comment(`cut off after ${last} segments (${finals.length} finals and ${interims}/${interimsPublished} interims reached it)`);
  await Promise.all([fast.close(), back.close()]);
});

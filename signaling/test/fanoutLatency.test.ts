/**
 * Fan-out at some scale: 1,000 caption sockets on one node over 4 languages, captions published to
 * NATS at a steady pace. Checks that every socket gets every final of its language, once, and that
 * each caption is serialized once per node; reports the delivery delay seen by the clients and the
 * node's own histogram. The clients share this process (and its event loop) with the node, so the
 * delays are an upper bound of what the node adds.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import tap from 'tap';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { ScriptedCaptions, liveFeedOpen } from './fixtures/captions.js';
import { mint, seedSession, startSignaling, testBackends } from './fixtures/signaling.js';

const SOCKETS = 1_000;
const LANGS = ['es', 'fr', 'de', 'ja'];
const FINALS = 30;

const frameSchema = z.object({ type: z.string(), seq: z.number().optional(), final: z.boolean().optional(), publishedAt: z.number().optional() });

type Reader = { ws: WebSocket; lang: string; finals: number[]; delaysMs: number[]; done: Promise<void> };

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

tap.test(`${SOCKETS} sockets, ${LANGS.length} languages: every final once, one serialization per caption`, async (t) => {
  const s = await startSignaling(t, { maxConnections: SOCKETS + 10 }, await testBackends(tap));
  const session = await seedSession(s.server);
  const pub = await ScriptedCaptions.open(s.nc, session.id);
  let encodedLive = 0;
  s.server.hub.captionObserver.on('encoded', (_final, source) => {
    if (source === 'live') encodedLive += 1;
  });
  const ready = Promise.all(LANGS.map((l) => liveFeedOpen(s.server, session.id, l)));

  const token = await mint({ org: session.organizationId, session: session.id, sub: `load-${randomUUID().slice(0, 6)}` });
  const open = async (i: number): Promise<Reader> => {
    const lang = LANGS[i % LANGS.length] ?? 'es';
    const ws = new WebSocket(s.wsUrl);
    await once(ws, 'open');
    const reader: Reader = { ws, lang, finals: [], delaysMs: [], done: Promise.resolve() };
    let resolveDone!: () => void;
    reader.done = new Promise((resolve) => (resolveDone = resolve));
    let joined!: () => void;
    const languageSet = new Promise<void>((resolve) => (joined = resolve));
    ws.on('message', (data) => {
      const m = frameSchema.parse(JSON.parse(String(data)));
      if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'setLanguage', language: lang }));
      else if (m.type === 'languageSet') joined();
      else if (m.type === 'caption' && m.final && m.seq !== undefined && m.publishedAt !== undefined) {
        reader.finals.push(m.seq);
        reader.delaysMs.push(Date.now() - m.publishedAt);
        if (m.seq === FINALS) resolveDone();
      }
    });
    ws.send(JSON.stringify({ type: 'auth', token }));
    await languageSet;
    return reader;
  };
  const readers: Reader[] = [];
  // Connect in batches: a thousand handshakes at once would mostly measure the accept queue.
  for (let i = 0; i < SOCKETS; i += 100) readers.push(...(await Promise.all(Array.from({ length: Math.min(100, SOCKETS - i) }, (_, j) => open(i + j)))));
  t.teardown(() => {
    for (const r of readers) r.ws.terminate();
  });
  await ready;

  const started = performance.now();
  for (let seq = 1; seq <= FINALS; seq++) {
    for (const lang of LANGS) {
      await pub.interim(lang, seq);
      await pub.final(lang, seq);
    }
  }
  await Promise.all(readers.map((r) => r.done));
  const elapsedMs = performance.now() - started;

  const wrong = readers.filter((r) => r.finals.length !== FINALS || r.finals.some((seq, i) => seq !== i + 1));
  t.equal(wrong.length, 0, `every socket got finals 1-${FINALS} of its language, once, in order`);
  t.ok(encodedLive <= 2 * FINALS * LANGS.length, `${encodedLive} serializations for ${FINALS * LANGS.length} finals + their interims, for ${SOCKETS} sockets`);
  const delays = readers.flatMap((r) => r.delaysMs).sort((a, b) => a - b);
  const metrics = await (await fetch(`${s.metricsBase}/metrics`)).text();
  const sum = Number(/pc_signaling_caption_delivery_seconds_sum\{node="[^"]+",kind="final"\} ([0-9.e-]+)/.exec(metrics)?.[1]);
  const count = Number(/pc_signaling_caption_delivery_seconds_count\{node="[^"]+",kind="final"\} (\d+)/.exec(metrics)?.[1]);
  t.equal(count, SOCKETS * FINALS, 'one histogram sample per final per socket');
  t.comment(
    `${SOCKETS} sockets x ${FINALS} finals (+ interims) in ${Math.round(elapsedMs)} ms; publish -> client receive: ` +
      `p50 ${percentile(delays, 0.5)} ms, p99 ${percentile(delays, 0.99)} ms, max ${delays[delays.length - 1]} ms; ` +
      `node's publish -> ws.send mean ${((sum / count) * 1000).toFixed(1)} ms`,
  );
});

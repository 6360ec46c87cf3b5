/**
 * CaptionSink's queue policy on a real ws pair. With highWaterBytes 0, only one of the sink's
 * writes is out at a time, so frames delivered in one synchronous block queue behind the first
 * one: the policy (interims replaced and evicted, finals kept and bounded, seq dedupe) is then
 * deterministic, and the client sees exactly what was written, in order.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import tap from 'tap';
import { WebSocket, WebSocketServer } from 'ws';
import type { CaptionEvent } from '../../core/src/captions/CaptionEvent.js';
import { SafeEmitter } from '../../core/src/events.js';
import type { CaptionObserverEvents } from '../src/CaptionChannel.js';
import { encodeCaptionFrame, type CaptionFrame } from '../src/captionFrame.js';
import { CaptionSink, type CaptionQueueLimits } from '../src/CaptionSink.js';
import { decodeServerMessage } from '../src/protocol.js';
import type { Teardown } from './fixtures/signaling.js';

function frame(seq: number, final: boolean, text: string, segment = `s${seq}`): CaptionFrame {
  const event: CaptionEvent = {
    v: 1, org: 'o', session: 'sess', segment, seq, lang: 'es', srcLang: 'en', text, srcText: text, final,
    speaker: null, speakerName: null, startMs: 0, endMs: 1, audioEndAt: 1, publishedAt: Date.now(), engine: 'test',
  };
  return encodeCaptionFrame(event, true);
}

/** A server socket with a sink on it, and the client's view: every caption as `seq:text`. */
async function sinkPair(t: Teardown, limits: CaptionQueueLimits) {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => { wss.close(); server.close(() => resolve()); }));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const [serverWs] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  t.teardown(() => client.terminate());
  const received: string[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  client.on('message', (data, isBinary) => {
    const m = decodeServerMessage(String(data));
    if (m.type === 'caption') received.push(`${m.seq}${m.final ? 'F' : 'i'}:${m.text}${isBinary ? ' (binary!)' : ''}`);
    for (const w of waiters.filter((w) => received.length >= w.n)) w.resolve();
  });
  const observer = new SafeEmitter<CaptionObserverEvents>();
  const stats = { dropped: 0, slow: 0, overflowAt: [] as number[] };
  observer.on('interimDropped', () => (stats.dropped += 1));
  observer.on('slowConsumer', () => (stats.slow += 1));
  const sink = new CaptionSink({ ws: serverWs, limits, observer, onOverflow: (n) => stats.overflowAt.push(n) });
  const receivedAtLeast = (n: number): Promise<void> =>
    received.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));
  return { sink, received, stats, receivedAtLeast };
}

tap.test('a backed-up socket keeps every final and only the latest interim of the newest segments', async (t) => {
  const { sink, received, stats, receivedAtLeast } = await sinkPair(t, { highWaterBytes: 0, maxQueuedFinals: 10, maxQueuedInterims: 2 });
  sink.deliverInterim(frame(1, false, 'a')); // written at once: nothing is out yet
  sink.deliverInterim(frame(1, false, 'ab')); // queued behind it
  sink.deliverInterim(frame(1, false, 'abc')); // replaces 'ab' (dropped)
  sink.deliverFinal(frame(1, true, 'ABC.')); // supersedes the queued interim of its segment
  sink.deliverInterim(frame(2, false, 'b'));
  sink.deliverInterim(frame(3, false, 'c'));
  sink.deliverInterim(frame(4, false, 'd')); // a third segment waiting: the oldest (2) goes
  sink.deliverFinal(frame(2, true, 'B.'));
  sink.deliverFinal(frame(2, true, 'B again.')); // a seq it has: dropped silently
  sink.deliverInterim(frame(2, false, 'b late')); // stale: its final is in
  t.equal(sink.queuedFinals, 2);
  await receivedAtLeast(5);
  t.same(received, ['1i:a', '1F:ABC.', '2F:B.', '3i:c', '4i:d'], 'finals first, in order, then the newest interims');
  t.equal(stats.dropped, 2, 'two interims dropped: one replaced, one evicted');
  t.equal(await sink.writable(sink.generation), true, 'writable again once drained');
});

tap.test('past maxQueuedFinals the sink stops and asks its owner to cut the socket off', async (t) => {
  const { sink, received, stats, receivedAtLeast } = await sinkPair(t, { highWaterBytes: 0, maxQueuedFinals: 3, maxQueuedInterims: 2 });
  const waiting = sink.writable(sink.generation);
  for (let seq = 1; seq <= 5; seq++) sink.deliverFinal(frame(seq, true, `F${seq}`));
  t.same(stats.overflowAt, [4], 'the 4th final waiting is one too many');
  t.equal(stats.slow, 1);
  t.equal(sink.closed, true);
  t.equal(await waiting, true, 'a replay waiting before was let through (nothing queued then)');
  t.equal(await sink.writable(sink.generation), false, 'a closed sink is never writable');
  await receivedAtLeast(1);
  t.same(received, ['1F:F1'], 'what was queued is dropped with the socket (the client resumes from seq 1)');
});

tap.test('reset: a new resume point drops the queue and ends the previous generation', async (t) => {
  const { sink, received, receivedAtLeast } = await sinkPair(t, { highWaterBytes: 0, maxQueuedFinals: 10, maxQueuedInterims: 2 });
  sink.deliverFinal(frame(1, true, 'old 1'));
  sink.deliverFinal(frame(2, true, 'old 2')); // queued
  const before = sink.generation;
  const waiter = sink.writable(before);
  const next = sink.reset(5);
  t.equal(await waiter, false, 'a replay of the previous generation stops');
  sink.deliverFinal(frame(5, true, 'have it'));
  sink.deliverInterim(frame(5, false, 'stale'));
  sink.deliverFinal(frame(6, true, 'new 6'));
  t.equal(sink.lastSeq, 6);
  t.ok(next > before);
  await receivedAtLeast(2);
  t.same(received, ['1F:old 1', '6F:new 6'], 'the queued old final is gone; seqs up to the resume point are skipped');
});

import { once } from 'node:events';

import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import t from 'tap';

import type { HealthCheckResponse__Output, WorkerDescription__Output } from '../../../proto/src/index.js';
import {
  WORKER_ANNOUNCE_SUBJECT,
  createSpeechWorker,
  decodeWorkerMessage,
  FakeSpeechEngine,
  type WorkerMessage,
} from '../src/index.js';
import { CHUNK, client, CONFIG, contract, recognize, unary } from './calls.js';
import { natsConnection } from './useNats.js';

const log = pino({ level: 'silent' });

type Teardown = { teardown(fn: () => unknown): void };

async function startWorker(t: Teardown, engine = new FakeSpeechEngine({ languages: ['en'], maxStreams: 2 }), extra: { announceIntervalMs?: number } = {}) {
  const nats = await natsConnection(t);
  const messages: WorkerMessage[] = [];
  const sub = nats.subscribe(WORKER_ANNOUNCE_SUBJECT, { callback: (_err, msg) => messages.push(decodeWorkerMessage(msg.data)) });
  await nats.flush();
  const worker = await createSpeechWorker({ engine, nats, log, announceIntervalMs: extra.announceIntervalMs ?? 60_000, drainTimeoutMs: 2_000 });
  t.teardown(() => worker.shutdown());
  await nats.flush();
  return { worker, engine, nats, messages, sub };
}

t.test('Describe, health and the first announcement', async (t) => {
  const { worker, messages, nats } = await startWorker(t);
  const description = await unary<WorkerDescription__Output>((cb) => client(t, contract.Worker.Client, worker.address).Describe({}, cb));
  t.match(description, { id: worker.id, kind: 'SPEECH_TO_TEXT', engine: 'fake-stt', languages: ['en'], maxConcurrentStreams: 2 });
  const health = client(t, contract.Health.Client, worker.address);
  t.equal((await unary<HealthCheckResponse__Output>((cb) => health.Check({ service: '' }, cb))).status, 'SERVING');
  t.equal((await unary<HealthCheckResponse__Output>((cb) => health.Check({ service: 'polyglot.v1.SpeechToText' }, cb))).status, 'SERVING');

  // The worker announces at start: it was published before createSpeechWorker resolved.
  await nats.flush();
  t.match(messages[0], {
    v: 1,
    type: 'announce',
    id: worker.id,
    kind: 'SPEECH_TO_TEXT',
    engine: 'fake-stt',
    languages: ['en'],
    address: worker.address,
    maxStreams: 2,
    activeStreams: 0,
    ttlMs: 180_000,
    serving: true,
  });
});

t.test('a stream gets interims, then finals with word timings, then OK', async (t) => {
  const { worker } = await startWorker(t);
  const stt = client(t, contract.SpeechToText.Client, worker.address);
  const { call, done } = recognize(stt);
  call.write({ config: CONFIG });
  for (let i = 0; i < 4; i++) call.write(CHUNK);
  call.end();
  const events = await done;
  t.same(
    events.map((e) => [e.segmentId, e.isFinal, e.text]),
    [
      ['s1', false, 'w1'],
      ['s1', false, 'w1 w2'],
      ['s1', true, 'w1 w2 w3'],
      ['s2', false, 'w1'],
      ['s2', true, 'w1'],
    ],
  );
  t.same(events[2]?.words.map((w) => [w.word, w.startMs, w.endMs]), [['w1', 0, 100], ['w2', 100, 200], ['w3', 200, 300]]);
  t.ok(events.every((e) => e.engine === 'fake-stt'));
});

t.test('bad first messages end the call with INVALID_ARGUMENT or NOT_FOUND and say what to fix', async (t) => {
  const { worker, engine } = await startWorker(t);
  const stt = client(t, contract.SpeechToText.Client, worker.address);
  const cases: [string, (call: ReturnType<typeof recognize>['call']) => void, grpc.status, RegExp][] = [
    ['audio first', (c) => c.write(CHUNK), grpc.status.INVALID_ARGUMENT, /first message .* must carry `config`/],
    ['8000 Hz', (c) => c.write({ config: { ...CONFIG, sampleRateHz: 8_000 } }), grpc.status.INVALID_ARGUMENT, /sample_rate_hz is 8000.*resample to 16000 Hz/],
    ['no encoding', (c) => c.write({ config: { ...CONFIG, encoding: 'ENCODING_UNSPECIFIED' } }), grpc.status.INVALID_ARGUMENT, /encoding is ENCODING_UNSPECIFIED.*LINEAR16/],
    ['unsupported language', (c) => c.write({ config: { ...CONFIG, language: 'fr-FR' } }), grpc.status.NOT_FOUND, /does not recognize "fr-FR"; it recognizes en/],
    ['empty org', (c) => c.write({ config: { ...CONFIG, orgId: '' } }), grpc.status.INVALID_ARGUMENT, /config.org_id must not be empty/],
    ['config twice', (c) => { c.write({ config: CONFIG }); c.write({ config: CONFIG }); }, grpc.status.INVALID_ARGUMENT, /a second `config`/],
    ['odd chunk', (c) => { c.write({ config: CONFIG }); c.write({ audio: Buffer.alloc(3) }); }, grpc.status.INVALID_ARGUMENT, /odd number/],
    ['ends before config', () => undefined, grpc.status.INVALID_ARGUMENT, /ended before `config`/],
  ];
  for (const [name, send, code, details] of cases) {
    const { call, done } = recognize(stt);
    send(call);
    call.end();
    await t.rejects(done, { code, details }, name);
  }
  t.equal(engine.opened.length, 2, 'only the two valid configs reached the engine');
  t.equal(worker.activeStreams, 0, 'failed calls free their slots');
});

t.test('RESOURCE_EXHAUSTED beyond maxStreams; a freed slot is reused', async (t) => {
  const { worker } = await startWorker(t, new FakeSpeechEngine({ maxStreams: 1 }));
  const stt = client(t, contract.SpeechToText.Client, worker.address);
  const first = recognize(stt);
  first.call.write({ config: CONFIG });
  first.call.write(CHUNK);
  await first.next(1); // admitted: its first interim arrived
  const second = recognize(stt);
  second.call.write({ config: CONFIG });
  await t.rejects(second.done, { code: grpc.status.RESOURCE_EXHAUSTED, details: /maximum of 1 concurrent/ });
  first.call.end();
  await first.done;
  const third = recognize(stt);
  third.call.write({ config: CONFIG });
  third.call.write(CHUNK);
  third.call.end();
  t.same((await third.done).map((e) => e.isFinal), [false, true], 'the slot was released');
});

t.test('shutdown: goodbye, NOT_SERVING, streams flush their finals then end UNAVAILABLE', async (t) => {
  const { worker, messages, nats, engine } = await startWorker(t);
  const stt = client(t, contract.SpeechToText.Client, worker.address);
  const live = recognize(stt);
  live.call.write({ config: CONFIG });
  live.call.write(CHUNK);
  live.call.write(CHUNK);
  await live.next(2);
  const closed = once(worker.observer, 'close');
  const stopping = worker.shutdown();
  t.equal(worker.shutdown(), stopping, 'shutdown is idempotent');
  await t.rejects(live.done, { code: grpc.status.UNAVAILABLE, details: /shutting down; continue on another worker/ });
  t.same(
    live.events.map((e) => [e.isFinal, e.text]),
    [[false, 'w1'], [false, 'w1 w2'], [true, 'w1 w2']],
    'the pending utterance got its final before UNAVAILABLE',
  );
  await stopping;
  await closed;
  await nats.flush();
  t.match(messages.at(-1), { v: 1, type: 'goodbye', id: worker.id, kind: 'SPEECH_TO_TEXT' });
  t.equal(worker.serving, false);
  t.ok(engine.closed, 'engine closed');
});

t.test('metrics and healthz over HTTP', async (t) => {
  const { worker } = await startWorker(t);
  const stt = client(t, contract.SpeechToText.Client, worker.address);
  const { call, done } = recognize(stt);
  call.write({ config: CONFIG });
  call.write(CHUNK);
  call.end();
  await done;
  const base = worker.metricsUrl;
  t.ok(base);
  const healthz = await fetch(`${base}/healthz`);
  t.equal(healthz.status, 200);
  const text = await (await fetch(`${base}/metrics`)).text();
  t.match(text, /pc_worker_calls_total\{method="StreamingRecognize",code="OK",worker="[^"]+",engine="fake-stt",kind="SPEECH_TO_TEXT"\} 1/);
  t.match(text, /pc_stt_audio_seconds_total\{[^}]*\} 0\.1/);
  t.match(text, /pc_worker_announcements_total\{[^}]*\} 1/);
  t.match(text, /process_cpu_seconds_total/);
});

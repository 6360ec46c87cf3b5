import * as grpc from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, Events } from 'nats';
import { pino } from 'pino';
import t from 'tap';
import { NatsServer } from '../../../core/src/infra/NatsServer.js';
import { freePort } from '../../../core/src/infra/ports.js';

import { loadContract, type TranslateResponse__Output } from '../../../proto/src/index.js';
import { encodeWorkerMessage, onceEvent, type WorkerMessageInput } from '../../sdk/src/index.js';
import { natsConnection, useNats } from '../../sdk/test/useNats.js';
import { WorkerProcess } from '../../sdk/test/workerProcess.js';
import { WorkerRegistry } from '../src/index.js';

type Teardown = { teardown(fn: () => unknown): void };

async function startRegistry(t: Teardown, subject: string) {
  const nats = await natsConnection(t);
  const registry = await WorkerRegistry.start({ nats, subject });
  t.teardown(() => registry.close());
  const announce = async (message: WorkerMessageInput): Promise<void> => {
    nats.publish(subject, encodeWorkerMessage(message));
    await nats.flush();
  };
  return { nats, registry, announce };
}

const stt = (id: string, extra: Partial<WorkerMessageInput & { type: 'announce' }> = {}): WorkerMessageInput => ({
  v: 1,
  type: 'announce',
  id,
  kind: 'SPEECH_TO_TEXT',
  engine: 'fake',
  languages: ['en'],
  address: `127.0.0.1:${id.length}`,
  maxStreams: 4,
  activeStreams: 0,
  ttlMs: 60_000,
  ...extra,
});

t.test('picks the least-loaded usable worker for a language or a pair', async (t) => {
  const { registry, announce, nats } = await startRegistry(t, `test.registry.${process.pid}.pick`);
  const added: string[] = [];
  registry.on('workerAdded', (info) => added.push(info.id));
  const seen = (n: number) => new Promise<void>((resolve) => {
    const check = (): void => {
      if (registry.workers().length >= n) {
        registry.observer.off('announcement', check);
        resolve();
      }
    };
    registry.observer.on('announcement', check);
    check();
  });
  await announce(stt('busy', { activeStreams: 5, maxStreams: 10 }));
  await announce(stt('idle', { activeStreams: 1, maxStreams: 8 }));
  await announce(stt('full', { activeStreams: 4 }));
  await announce(stt('down', { serving: false }));
  await announce(stt('french', { languages: ['fr'] }));
  await announce({ v: 1, type: 'announce', id: 'mt', kind: 'TRANSLATION', engine: 'fake', pairs: [{ source: 'en', target: 'es' }], address: '127.0.0.1:1', maxStreams: 0, activeStreams: 9, ttlMs: 60_000 });
  await seen(6);
  t.same(added, ['busy', 'idle', 'full', 'down', 'french', 'mt']);

  t.equal(registry.pickSpeechWorker('en-GB')?.id, 'idle', '1/8 beats 5/10; full and not-serving workers are skipped');
  t.equal(registry.pickSpeechWorker('en')?.id, 'idle', '2/8 (one picked since its announcement) still beats 5/10');
  t.equal(registry.pickSpeechWorker('en', { exclude: new Set(['idle']) })?.id, 'busy');
  t.equal(registry.pickSpeechWorker('de'), undefined, 'nobody speaks German');
  t.equal(registry.pickTranslationWorker('en-US', 'es-MX')?.id, 'mt', 'a worker without a limit of its own');
  t.equal(registry.pickTranslationWorker('es', 'en'), undefined, 'pairs are directed');

  registry.reportFailure('idle');
  t.equal(registry.pickSpeechWorker('en')?.id, 'busy', 'a suspect worker is skipped');
  await announce(stt('idle', { activeStreams: 1, maxStreams: 8 }));
  t.equal(registry.pickSpeechWorker('en')?.id, 'idle', 'until it announces again');

  const removed = onceEvent(registry, 'workerRemoved');
  await announce({ v: 1, type: 'goodbye', id: 'idle', kind: 'SPEECH_TO_TEXT' });
  const [info, reason] = await removed;
  t.same([info.id, reason], ['idle', 'goodbye']);
  t.equal(registry.pickSpeechWorker('en')?.id, 'busy');

  const rejected = onceEvent(registry.observer, 'rejected');
  nats.publish(`test.registry.${process.pid}.pick`, new TextEncoder().encode('{"v":2,"type":"announce"}'));
  t.match((await rejected)[0].reason, /v: Invalid literal value/, 'other versions and garbage are ignored');
});

t.test('waitForSpeechWorker resolves when a usable worker appears; a silent worker expires after its TTL', async (t) => {
  const { registry, announce } = await startRegistry(t, `test.registry.${process.pid}.wait`);
  const waiting = registry.waitForSpeechWorker('en', AbortSignal.timeout(10_000));
  await announce(stt('late', { ttlMs: 300 }));
  const worker = await waiting;
  t.equal(worker.id, 'late');
  const started = performance.now();
  const [info, reason] = await onceEvent(registry, 'workerRemoved');
  const ms = performance.now() - started;
  t.same([info.id, reason], ['late', 'expired']);
  t.ok(ms >= 250 && ms < 1_000, `expired ${ms.toFixed(0)} ms after its only announcement (TTL 300 ms)`);
});

t.test('a worker process started during the test is usable within one announce interval; SIGKILL drops it within its TTL', async (t) => {
  const natsUrl = await useNats();
  const subject = `test.registry.${process.pid}.process`;
  const { registry } = await startRegistry(t, subject);
  const intervalMs = 500;
  const env = { PC_NATS_URL: natsUrl, PC_ANNOUNCE_INTERVAL_MS: String(intervalMs), PC_METRICS_PORT: 'off', PC_REGISTRY_SUBJECT: subject };

  const added = onceEvent(registry, 'workerAdded');
  const worker = new WorkerProcess(t, 'sidecars/examples/mt-piglatin/src/main.ts', { ...env, PC_WORKER_ID: 'piglatin-a' });
  const [{ at: readyAt, address }, [info]] = await Promise.all([worker.ready, added]);
  const addedAt = performance.now();
  t.comment(`spawn -> ready ${(readyAt - worker.spawnedAt).toFixed(0)} ms; spawn -> in the registry ${(addedAt - worker.spawnedAt).toFixed(0)} ms`);
  t.ok(addedAt - readyAt < intervalMs, `in the registry ${(addedAt - readyAt).toFixed(0)} ms after it was ready (interval ${intervalMs} ms)`);
  t.match(info, { id: 'piglatin-a', kind: 'TRANSLATION', engine: 'piglatin', address, ttlMs: 3 * intervalMs, serving: true });

  const picked = registry.pickTranslationWorker('en', 'en-x-piglatin');
  t.equal(picked?.id, 'piglatin-a');
  const client = new (loadContract().Translator.Client)(picked?.address ?? '', grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const response = await new Promise<TranslateResponse__Output>((resolve, reject) =>
    client.Translate({ texts: ['Hello world'], sourceLanguage: 'en', targetLanguages: ['en-x-piglatin'], orgId: 'o' }, (err, value) =>
      err || !value ? reject(err ?? new Error('no response')) : resolve(value),
    ),
  );
  t.equal(response.results[0]?.text, 'Ellohay orldway', 'usable right away');

  // A second worker, stopped politely: its goodbye removes it at once.
  const second = new WorkerProcess(t, 'sidecars/examples/mt-piglatin/src/main.ts', { ...env, PC_WORKER_ID: 'piglatin-b' });
  await onceEvent(registry, 'workerAdded');
  await second.ready;
  const goodbye = onceEvent(registry, 'workerRemoved');
  const stoppedAt = performance.now();
  second.kill('SIGTERM');
  const [gone, goneReason] = await goodbye;
  t.same([gone.id, goneReason], ['piglatin-b', 'goodbye']);
  t.comment(`SIGTERM -> removed (goodbye) ${(performance.now() - stoppedAt).toFixed(0)} ms`);
  t.match(await second.exited, { code: 0 }, 'exits 0 after a graceful shutdown');

  const expired = onceEvent(registry, 'workerRemoved');
  const killedAt = performance.now();
  worker.kill('SIGKILL');
  const [dead, reason] = await expired;
  const ms = performance.now() - killedAt;
  t.same([dead.id, reason], ['piglatin-a', 'expired']);
  t.comment(`SIGKILL -> removed (expired) ${ms.toFixed(0)} ms; TTL ${3 * intervalMs} ms`);
  // The TTL runs from the last announcement, before the kill; the slack is for a busy machine's timers.
  t.ok(ms <= 3 * intervalMs + 300, `dropped within its TTL (${ms.toFixed(0)} ms)`);
  t.equal(registry.pickTranslationWorker('en', 'en-x-piglatin'), undefined);
});

t.test("announced tags are canonical; a worker's unusable tag is dropped, not the worker", async (t) => {
  const subject = `test.registry.${process.pid}.tags`;
  const { registry, nats } = await startRegistry(t, subject);
  const added = onceEvent(registry, 'workerAdded');
  const raw = {
    v: 1, type: 'announce', id: 'mixed', kind: 'TRANSLATION', engine: 'fake', address: '127.0.0.1:2', maxStreams: 0, activeStreams: 0, ttlMs: 60_000,
    pairs: [{ source: 'EN', target: 'ES-mx' }, { source: 'en', target: 'es-mx' }, { source: 'en', target: 'fr.>' }, { source: 'en', target: `de-${'x'.repeat(40)}` }],
    languages: ['EN', 'not a tag'],
  };
  nats.publish(subject, new TextEncoder().encode(JSON.stringify(raw)));
  const [info] = await added;
  t.same(info.pairs, [{ source: 'en', target: 'es-MX' }], 'canonical, once, bad pairs dropped');
  t.same(info.languages, ['en']);
  t.equal(registry.pickTranslationWorker('en', 'es-MX')?.id, 'mixed');
});

t.test('a NATS outage longer than the TTL expires no worker; silence after the reconnect does', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pc-registry-nats-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const server = await NatsServer.start({ dir, port: await freePort(), log: pino({ level: 'silent' }) });
  t.teardown(() => server.stop());
  const nats = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  t.teardown(() => nats.close());
  const subject = `test.registry.${process.pid}.outage`;
  const registry = await WorkerRegistry.start({ nats, subject });
  t.teardown(() => registry.close());
  const removed: string[] = [];
  registry.on('workerRemoved', (info) => removed.push(info.id));
  nats.publish(subject, encodeWorkerMessage(stt('w1', { ttlMs: 300 })));
  await onceEvent(registry, 'workerAdded');

  const reconnected = (async () => {
    for await (const s of nats.status()) if (s.type === Events.Reconnect) return;
  })();
  await server.down();
  await delay(1_000); // the outage: over three TTLs without an announcement
  t.same(removed, [], 'still there while NATS is away');
  await server.up();
  await reconnected;
  t.ok(registry.get('w1'), 'still there right after the reconnect');
  await onceEvent(registry, 'workerRemoved');
  t.same(removed, ['w1'], 'a worker that stays silent after the reconnect leaves at its TTL');
});

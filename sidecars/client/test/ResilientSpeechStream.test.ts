import { pino } from 'pino';
import t from 'tap';

import { createSpeechWorker, FakeSpeechEngine, InvalidArgumentError, onceEvent, type LanguageWorker } from '../../sdk/src/index.js';
import { client, CONFIG as CONFIG_WIRE, contract, recognize } from '../../sdk/test/calls.js';
import { natsConnection } from '../../sdk/test/useNats.js';
import { ResilientSpeechStream, WorkerRegistry, type SpeechResult } from '../src/index.js';

const log = pino({ level: 'silent' });
const CHUNK = Buffer.alloc(3_200); // 100 ms: one word of the fake engine
type Teardown = { teardown(fn: () => unknown): void };

/** A registry on a subject of its own and `n` in-process speech workers announcing on it. */
async function setup(t: Teardown, name: string, engines: FakeSpeechEngine[]): Promise<{ registry: WorkerRegistry; workers: LanguageWorker[] }> {
  const nats = await natsConnection(t);
  const subject = `test.resilient.${process.pid}.${name}`;
  const registry = await WorkerRegistry.start({ nats, subject });
  t.teardown(() => registry.close());
  const workers: LanguageWorker[] = [];
  for (const engine of engines) {
    const added = onceEvent(registry, 'workerAdded');
    const worker = await createSpeechWorker({ engine, nats, registrySubject: subject, log, metricsPort: null, drainTimeoutMs: 2_000 });
    t.teardown(() => worker.shutdown());
    await added;
    workers.push(worker);
  }
  return { registry, workers };
}

/** Results as they come, with a way to wait for the nth. */
function collect(stream: ResilientSpeechStream) {
  const results: SpeechResult[] = [];
  const waiters: [number, () => void][] = [];
  const done = (async () => {
    for await (const result of stream) {
      results.push(result);
      for (const [n, wake] of waiters.filter(([n]) => results.length >= n)) {
        waiters.splice(waiters.findIndex(([m]) => m === n), 1);
        wake();
      }
    }
    return results;
  })();
  done.catch(() => undefined);
  const count = (n: number): Promise<void> => (results.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push([n, resolve])));
  return { results, done, count };
}

const CONFIG = { sessionId: 's', trackId: 't', orgId: 'o', language: 'en' };

t.test('a worker that shuts down mid-utterance: its finals arrive, the rest is replayed on the other, no word lost or repeated', async (t) => {
  const { registry, workers } = await setup(t, 'drain', [new FakeSpeechEngine({ chunksPerUtterance: 3 }), new FakeSpeechEngine({ chunksPerUtterance: 3 })]);
  const stream = new ResilientSpeechStream({ registry, config: CONFIG, log });
  t.teardown(() => stream.close());
  const { results, done, count } = collect(stream);
  for (let i = 0; i < 4; i++) stream.pushAudio(CHUNK);
  await count(4); // w1, w1 w2, final w1 w2 w3, w1 (interim of the second utterance)
  const first = workers.find((w) => w.id === stream.workerId);
  const failover = onceEvent(stream, 'failover');
  void first?.shutdown();
  for (let i = 0; i < 2; i++) stream.pushAudio(CHUNK); // reach the draining worker or nobody: replayed either way
  const [info] = await failover;
  t.equal(info.from, first?.id);
  t.not(info.to, first?.id);
  t.equal(info.reason, 'UNAVAILABLE');
  for (let i = 0; i < 3; i++) stream.pushAudio(CHUNK);
  stream.endInput();
  await done;

  const finals = results.filter((r) => r.isFinal);
  const words = finals.flatMap((f) => f.words);
  t.same(words.map((w) => [w.startMs, w.endMs]), Array.from({ length: 9 }, (_, i) => [i * 100, (i + 1) * 100]), 'every 100 ms of audio in exactly one final, on one timeline');
  t.equal(new Set(finals.map((f) => f.segmentId)).size, finals.length, 'segment ids unique across workers');
  t.ok(finals.some((f) => f.workerId === info.from) && finals.some((f) => f.workerId === info.to), 'finals from both workers');
  t.equal(stream.attempts, 2);
});

t.test('RESOURCE_EXHAUSTED on one worker: the stream goes to another', async (t) => {
  const busy = new FakeSpeechEngine({ maxStreams: 1, name: 'busy' });
  const { registry, workers } = await setup(t, 'full', [busy, new FakeSpeechEngine({ name: 'free' })]);
  // Fill `busy` behind the registry's back: its last announcement still says 0 streams.
  const hog = recognize(client(t, contract.SpeechToText.Client, workers[0]?.address ?? ''));
  hog.call.write({ config: CONFIG_WIRE });
  hog.call.write({ audio: CHUNK });
  await hog.next(1);
  t.teardown(() => hog.call.cancel());

  const stream = new ResilientSpeechStream({ registry, config: CONFIG, log });
  t.teardown(() => stream.close());
  const failovers: string[] = [];
  stream.on('failover', (info) => failovers.push(`${info.reason} ${info.from} -> ${info.to}`));
  stream.pushAudio(CHUNK);
  stream.endInput();
  const results = await collect(stream).done;
  t.same(failovers, [`RESOURCE_EXHAUSTED ${workers[0]?.id} -> ${workers[1]?.id}`], 'the first pick was full; the stream moved on');
  t.same(results.map((r) => [r.engine, r.isFinal, r.text]), [['free', false, 'w1'], ['free', true, 'w1']]);
});

t.test('errors that another worker would repeat end the stream; no worker at all times out', async (t) => {
  const { registry } = await setup(t, 'fatal', [new FakeSpeechEngine()]);
  const bad = new ResilientSpeechStream({ registry, config: { ...CONFIG, orgId: '' }, log });
  bad.pushAudio(CHUNK);
  await t.rejects(collect(bad).done, InvalidArgumentError, 'INVALID_ARGUMENT is not failed over');
  const nobody = new ResilientSpeechStream({ registry, config: { ...CONFIG, language: 'ja' }, workerWaitMs: 200, log });
  nobody.pushAudio(CHUNK);
  await t.rejects(collect(nobody).done, { name: 'UnavailableError', message: 'no speech-to-text worker for "ja" became available within 200 ms' });
});

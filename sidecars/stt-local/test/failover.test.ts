import t from 'tap';

import { onceEvent } from '../../sdk/src/index.js';
import { natsConnection, useNats } from '../../sdk/test/useNats.js';
import { WorkerProcess } from '../../sdk/test/workerProcess.js';
import { ResilientSpeechStream, WorkerRegistry, type FailoverInfo, type SpeechResult } from '../../client/src/index.js';
import { SENTENCES, speak, wordErrorRate } from '../../../test/support/festivalSpeech.js';

const CHUNK_BYTES = 3_200;
/** Audio goes out 4x faster than real time: a live stream, only shorter to wait for. */
const PACE_MS = 25;

t.test('two stt-local workers; one is SIGKILLed mid-utterance; the transcript still has every sentence', async (t) => {
  const natsUrl = await useNats();
  const subject = `test.failover.${process.pid}`;
  const nats = await natsConnection(t);
  const registry = await WorkerRegistry.start({ nats, subject });
  t.teardown(() => registry.close());

  const env = { PC_NATS_URL: natsUrl, PC_REGISTRY_SUBJECT: subject, PC_ANNOUNCE_INTERVAL_MS: '500', PC_METRICS_PORT: 'off', PC_STT_MAX_STREAMS: '2' };
  const processes = new Map<string, WorkerProcess>();
  let bothAdded = 0;
  const added = new Promise<void>((resolve) =>
    registry.on('workerAdded', () => {
      if (++bothAdded === 2) resolve();
    }),
  );
  for (const id of ['stt-a', 'stt-b']) processes.set(id, new WorkerProcess(t, 'sidecars/stt-local/src/main.ts', { ...env, PC_WORKER_ID: id }));
  const speech = await speak(t, SENTENCES, { gapMs: 800 });
  await Promise.all([added, ...[...processes.values()].map((p) => p.ready)]);

  const stream = new ResilientSpeechStream({
    registry,
    config: { sessionId: 'session-1', trackId: 'host', orgId: 'org-1', language: 'en-US', interimResults: true },
  });
  t.teardown(() => stream.close());
  const failovers: FailoverInfo[] = [];
  stream.on('failover', (info) => failovers.push(info));

  // Live audio: one 100 ms chunk per tick until the speech is over.
  let offset = 0;
  const pacer = setInterval(() => {
    stream.pushAudio(speech.pcm.subarray(offset, offset + CHUNK_BYTES));
    offset += CHUNK_BYTES;
    if (offset >= speech.pcm.length) {
      clearInterval(pacer);
      stream.endInput();
    }
  }, PACE_MS);
  t.teardown(() => clearInterval(pacer));

  const results: SpeechResult[] = [];
  let killed: { id: string; at: number; audioMs: number } | undefined;
  let firstAfterKillMs: number | undefined;
  for await (const result of stream) {
    results.push(result);
    if (killed && firstAfterKillMs === undefined && result.workerId !== killed.id) firstAfterKillMs = performance.now() - killed.at;
    const finals = results.filter((r) => r.isFinal).length;
    // Mid-utterance: the first interim of the third sentence, two finals in.
    if (!killed && finals === 2 && !result.isFinal) {
      killed = { id: result.workerId, at: performance.now(), audioMs: offset / 32 };
      processes.get(result.workerId)?.kill('SIGKILL');
      t.comment(`SIGKILL ${result.workerId} at ${(offset / 32 / 1000).toFixed(1)} s of audio, interim "${result.text}"`);
    }
  }

  t.ok(killed, 'a worker was killed mid-utterance');
  t.equal(failovers.length, 1, 'one failover');
  const failover = failovers[0];
  // A killed process resets its TCP connections: the call fails with UNAVAILABLE at once (the
  // registry's expiry would catch a worker whose host vanished without a reset).
  t.match(failover, { from: killed?.id, reason: /^(UNAVAILABLE|CANCELLED|INTERNAL|expired)$/ });
  t.not(failover?.to, killed?.id, 'to the other worker');
  t.ok((failover?.abandonedSegments.length ?? 0) >= 1, `abandoned interim segments: ${failover?.abandonedSegments.join(', ')}`);
  t.comment(
    `failover: detected and switched in ${failover?.switchMs.toFixed(0)} ms, replayed ${failover?.replayedMs.toFixed(0)} ms of audio; ` +
      `first result from the new worker ${firstAfterKillMs?.toFixed(0)} ms after the kill`,
  );
  t.equal(stream.attempts, 2);

  const finals = results.filter((r) => r.isFinal);
  t.equal(new Set(finals.map((f) => f.segmentId)).size, finals.length, 'segment ids stay unique across workers');
  t.ok(
    results.every((r) => r.isFinal || !finals.some((f) => f.segmentId === r.segmentId && results.indexOf(f) < results.indexOf(r))),
    'no interim after its final',
  );
  let errors = 0;
  let words = 0;
  for (const sentence of speech.sentences) {
    // The finals whose words fall in this sentence's stretch of audio, on the stream's own timeline.
    const heard = finals
      .filter((f) => f.endMs > sentence.startMs - 300 && f.startMs < sentence.endMs + 300)
      .map((f) => f.text)
      .join(' ');
    const wer = wordErrorRate(sentence.text, heard);
    const n = sentence.text.split(' ').length;
    errors += wer * n;
    words += n;
    t.comment(`ref: ${sentence.text}\nhyp: ${heard}  (WER ${(wer * 100).toFixed(0)} %)`);
    t.ok(wer <= 0.34, `"${sentence.text}" is in the transcript`);
  }
  t.comment(`WER over ${words} words with a failover: ${((errors / words) * 100).toFixed(1)} %`);
  const exit = await processes.get(killed?.id ?? '')?.exited;
  t.match(exit, { signal: 'SIGKILL' });
  // The registry drops the dead worker once its TTL passes (it was reported failed at once).
  if (registry.get(killed?.id ?? '')) t.same((await onceEvent(registry, 'workerRemoved'))[1], 'expired');
});

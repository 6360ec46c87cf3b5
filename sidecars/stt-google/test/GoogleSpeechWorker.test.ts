import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import tap from 'tap';
import { GoogleSpeechStandIn } from '../../../test/standins/GoogleSpeechStandIn.js';
import { chunksOf, scriptAudio, type ScriptPart } from '../../../test/standins/wordAudio.js';
import { createSpeechWorker, loadContract, type RecognitionEvent__Output } from '../../sdk/src/index.js';
import { GoogleSpeechEngine } from '../src/GoogleSpeechEngine.js';

tap.test('through the gRPC speech worker: 24 s of speech across rotations, every word once', async (t) => {
  // The stand-in ends calls at 2.5 s; the engine rotates at finals after 1.5 s, at the latest at 2 s.
  const standIn = await GoogleSpeechStandIn.start({ limitMs: 2_500 });
  const engine = new GoogleSpeechEngine({
    languages: ['en'],
    clientOptions: { apiEndpoint: '127.0.0.1', port: standIn.port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com', projectId: 'p' },
    rotation: { rotateAtFinalAfterAudioMs: 1_500, rotateAfterAudioMs: 2_000, maxReplayMs: 1_000 },
    log: pino({ level: 'silent' }),
  });
  const worker = await createSpeechWorker({ engine, metricsPort: null, drainTimeoutMs: 200, log: pino({ level: 'silent' }) });
  const client = new (loadContract().SpeechToText.Client)(worker.address, grpc.credentials.createInsecure());
  t.teardown(async () => {
    client.close();
    await worker.shutdown();
    standIn.close();
  });

  const events: RecognitionEvent__Output[] = [];
  const waiters: { word: string; resolve: () => void }[] = [];
  const call = client.streamingRecognize();
  const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('data', (event: RecognitionEvent__Output) => {
    events.push(event);
    for (const w of waiters.splice(0)) {
      if (event.isFinal && event.words.some((x) => x.word === w.word)) w.resolve();
      else waiters.push(w);
    }
  });
  call.on('error', () => {
    // The status listener reports the outcome.
  });
  call.write({ config: { sessionId: 's', trackId: 't', orgId: 'o', language: 'en-GB', sampleRateHz: 16000, encoding: 'LINEAR16', interimResults: true } });

  // 24 utterances of 4 words (800 ms) and a 300 ms pause (the stand-in's endpoint).
  const script: ScriptPart[][] = Array.from({ length: 24 }, (_, u) => [
    ...Array.from({ length: 4 }, (_, i) => ({ word: u * 4 + i + 1, ms: 200 })),
    { pauseMs: 300 },
  ]);
  for (const parts of script) {
    const { pcm, words } = scriptAudio(parts);
    for (const chunk of chunksOf(pcm, 100)) call.write({ audio: chunk });
    const last = words[words.length - 1]?.word ?? '';
    await new Promise<void>((resolve) => waiters.push({ word: last, resolve }));
  }
  call.end();
  const status = await ended;

  t.equal(status.code, grpc.status.OK);
  const expected = scriptAudio(script.flat()).words;
  const finals = events.filter((e) => e.isFinal);
  t.same(finals.flatMap((e) => e.words.map((w) => w.word)), expected.map((w) => w.word), 'every word exactly once, in order');
  t.same(finals.flatMap((e) => e.words.map((w) => w.startMs)), expected.map((w) => w.startMs), 'offsets continue across provider calls');
  t.ok(events.every((e) => e.engine === 'google'));
  t.ok(standIn.calls.length >= 10, `${standIn.calls.length} provider calls behind one worker stream`);
  t.notOk(standIn.calls.some((c) => c.status === 'out_of_range'), 'rotation always came before the provider limit');
});

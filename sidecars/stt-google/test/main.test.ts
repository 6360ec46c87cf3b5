import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import tap from 'tap';
import { GoogleSpeechStandIn } from '../../../test/standins/GoogleSpeechStandIn.js';
import { chunksOf, scriptAudio } from '../../../test/standins/wordAudio.js';
import { startWorkerProcess } from '../../../test/standins/workerProcess.js';
import { useInfra } from '../../../core/test/support/infra.js';
import { loadContract, parseWorkerEnv, type RecognitionEvent__Output } from '../../sdk/src/index.js';
import { googleSpeechEngineOptions, googleSpeechEnvSchema } from '../src/config.js';
import { GoogleSpeechEngine } from '../src/GoogleSpeechEngine.js';

tap.test('configuration: rotation settings are checked at start, not at the first stream', async (t) => {
  t.throws(() => parseWorkerEnv(googleSpeechEnvSchema, {}), /PC_GOOGLE_PROJECT_ID/);
  const env = parseWorkerEnv(googleSpeechEnvSchema, { PC_GOOGLE_PROJECT_ID: 'p', PC_STT_GOOGLE_ROTATE_AFTER_MS: '60000', PC_STT_GOOGLE_ROTATE_AT_FINAL_AFTER_MS: '90000' });
  t.throws(() => new GoogleSpeechEngine({ ...googleSpeechEngineOptions(env), log: pino({ level: 'silent' }) }), /rotateAtFinalAfterAudioMs/);
  t.throws(() => parseWorkerEnv(googleSpeechEnvSchema, { PC_GOOGLE_PROJECT_ID: 'p', PC_STT_GOOGLE_ROTATE_AFTER_MS: '301000' }), /PC_STT_GOOGLE_ROTATE_AFTER_MS/, 'beyond Google\'s limit');
});

tap.test('configuration: a malformed credentials variable is named, its value never printed', async (t) => {
  const secret = '{"client_email":"svc@p.iam","private_key":"-----BEGIN PRIVATE KEY-----sekrit'; // not JSON: cut short
  const err = t.throws(() => parseWorkerEnv(googleSpeechEnvSchema, { PC_GOOGLE_PROJECT_ID: 'p', PC_GOOGLE_CREDENTIALS_JSON: secret, PC_NATS_URL: 'nats://w:natspass@' }));
  const text = err instanceof Error ? err.message : String(err);
  t.match(text, /PC_GOOGLE_CREDENTIALS_JSON: not JSON/);
  t.notMatch(text, /sekrit|private_key|svc@p/);
  t.notMatch(text, /natspass/);
});

tap.test('main.ts: a worker process recognizes through the endpoint from the environment, then stops on SIGTERM', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const standIn = await GoogleSpeechStandIn.start();
  t.teardown(() => standIn.close());
  const worker = await startWorkerProcess(t, 'sidecars/stt-google/src/main.ts', {
    PC_NATS_URL,
    PC_GOOGLE_PROJECT_ID: 'from-env',
    PC_GOOGLE_ENDPOINT: `127.0.0.1:${standIn.port}`,
    PC_GOOGLE_PLAINTEXT: 'true',
    PC_STT_GOOGLE_LANGUAGES: 'en,de',
  });
  const client = new (loadContract().SpeechToText.Client)(worker.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const call = client.streamingRecognize();
  const events: RecognitionEvent__Output[] = [];
  call.on('data', (e: RecognitionEvent__Output) => events.push(e));
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => {
    // reported through 'status'
  });
  call.write({ config: { sessionId: 's', trackId: 't', orgId: 'o', language: 'de-DE', sampleRateHz: 16000, encoding: 'LINEAR16', interimResults: false, phraseHints: ['Polyglot'] } });
  for (const chunk of chunksOf(scriptAudio([{ word: 7, ms: 200 }, { word: 8, ms: 200 }]).pcm, 100)) call.write({ audio: chunk });
  call.end();
  t.equal((await status).code, grpc.status.OK);
  t.same(events.map((e) => [e.isFinal, e.text, e.engine]), [[true, 'w7 w8', 'google']]);
  t.same(standIn.calls[0]?.config?.config?.speechContexts?.[0]?.phrases, ['Polyglot']);
  t.equal(standIn.calls[0]?.config?.config?.languageCode, 'de-DE');
  t.equal(await worker.stop(), 0, 'clean exit');
});

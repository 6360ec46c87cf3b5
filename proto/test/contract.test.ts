import { once } from 'node:events';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { COMMITTED_GEN_DIR, GENERATED_HEADER, generateTypes, listFiles } from '../tools/generateTypes.js';

import {
  acceptsLanguage,
  acceptsPair,
  ContractLoadError,
  findProtoRoot,
  HealthService,
  loadContract,
  MAX_AUDIO_CHUNK_BYTES,
  MAX_TRANSLATE_TEXTS,
  RECOMMENDED_AUDIO_CHUNK_BYTES,
  SAMPLE_RATE_HZ,
  SERVICE_NAMES,
} from '../src/index.js';
import type {
  AudioRequest,
  AudioRequest__Output,
  ClientConstructor,
  Glossary__Output,
  HealthCheckResponse__Output,
  RecognitionEvent,
  RecognitionEvent__Output,
  SpeechToTextHandlers,
  TranslateRequest,
  TranslateResponse__Output,
  Translation,
  TranslatorHandlers,
  WordTiming,
  WorkerDescription,
  WorkerDescription__Output,
  WorkerHandlers,
} from '../src/index.js';

const contract = loadContract();
const repoRoot = dirname(contract.protoRoot);

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

// ---- tiny deterministic workers -------------------------------------------------------------

function statusError(code: grpc.status, details: string): grpc.ServerErrorResponse {
  return Object.assign(new Error(details), { code, details });
}

const BYTES_PER_MS = (SAMPLE_RATE_HZ * 2) / 1000;
const SPOKEN_WORDS = ['one', 'two', 'three', 'four', 'five'];

/** Recognizes one word per audio chunk; one segment per stream, finalized when the client half-closes. */
const speechToText: SpeechToTextHandlers = {
  StreamingRecognize(call) {
    let interimResults: boolean | undefined;
    let failed = false;
    let audioBytes = 0;
    const words: WordTiming[] = [];
    const fail = (code: grpc.status, details: string): void => {
      failed = true;
      call.emit('error', statusError(code, details));
    };
    const event = (isFinal: boolean): RecognitionEvent => ({
      segmentId: 'seg-1',
      isFinal,
      text: words.map((w) => w.word).join(' '),
      confidence: isFinal ? 0.75 : 0,
      startMs: 0,
      endMs: Math.round(audioBytes / BYTES_PER_MS),
      words: [...words],
      engine: 'fake-stt',
    });

    // Readable's untyped 'data' overload wins inference, so name the type grpc-js delivers.
    call.on('data', (request: AudioRequest__Output) => {
      if (failed) return;
      if (interimResults === undefined) {
        const config = request.config;
        if (request.request !== 'config' || config == null) return fail(grpc.status.INVALID_ARGUMENT, 'first message must be config');
        if (config.sampleRateHz !== SAMPLE_RATE_HZ) return fail(grpc.status.INVALID_ARGUMENT, 'sample_rate_hz must be 16000');
        if (config.encoding !== 'LINEAR16') return fail(grpc.status.INVALID_ARGUMENT, 'encoding must be LINEAR16');
        if (!acceptsLanguage(['en', 'fr-FR'], config.language)) return fail(grpc.status.NOT_FOUND, `language ${config.language}`);
        interimResults = config.interimResults;
        return;
      }
      const audio = request.audio;
      if (request.request !== 'audio' || audio === undefined) return fail(grpc.status.INVALID_ARGUMENT, 'config sent twice');
      if (audio.length === 0 || audio.length % 2 !== 0 || audio.length > MAX_AUDIO_CHUNK_BYTES) {
        return fail(grpc.status.INVALID_ARGUMENT, `bad audio chunk of ${audio.length} bytes`);
      }
      const startMs = Math.round(audioBytes / BYTES_PER_MS);
      audioBytes += audio.length;
      const endMs = Math.round(audioBytes / BYTES_PER_MS);
      words.push({ word: SPOKEN_WORDS[words.length] ?? 'more', startMs, endMs, confidence: 0.5 });
      if (interimResults) call.write(event(false));
    });
    call.on('end', () => {
      if (failed) return;
      if (interimResults === undefined) return fail(grpc.status.INVALID_ARGUMENT, 'stream ended before config');
      call.write(event(true));
      call.end();
    });
  },
};

/** The glossaries of the last Translate call, as the server decoded them. */
let receivedGlossaries: Glossary__Output[] = [];

const translator: TranslatorHandlers = {
  Translate(call, callback) {
    const { texts, sourceLanguage, targetLanguages } = call.request;
    receivedGlossaries = call.request.glossaries;
    if (texts.length === 0 || texts.length > MAX_TRANSLATE_TEXTS) {
      return callback(statusError(grpc.status.INVALID_ARGUMENT, `${texts.length} texts`));
    }
    const source = sourceLanguage === '' ? 'en' : sourceLanguage;
    const pairs = [
      { source: 'en', target: 'fr' },
      { source: 'en', target: 'de' },
    ];
    const missing = targetLanguages.find((target) => !acceptsPair(pairs, source, target));
    if (missing !== undefined) return callback(statusError(grpc.status.NOT_FOUND, `${source} -> ${missing}`));
    const results: Translation[] = targetLanguages.flatMap((target) =>
      texts.map((text, textIndex) => ({
        textIndex,
        targetLanguage: target,
        text: `[${target}] ${text}`,
        engine: 'fake-mt',
        ...(sourceLanguage === '' ? { detectedSourceLanguage: source } : {}),
      })),
    );
    callback(null, { results });
  },
};

const DESCRIPTION: WorkerDescription = {
  id: 'worker-test-1',
  kind: 'SPEECH_TO_TEXT',
  engine: 'fake-stt',
  languages: ['en', 'fr-FR'],
  maxConcurrentStreams: 4,
  version: '0.0.0-test',
};

const worker: WorkerHandlers = {
  Describe(_call, callback) {
    callback(null, DESCRIPTION);
  },
};

interface RunningWorker {
  address: string;
  health: HealthService;
}

async function startWorker(t: Teardown): Promise<RunningWorker> {
  const server = new grpc.Server();
  server.addService(contract.SpeechToText.service, speechToText);
  server.addService(contract.Translator.service, translator);
  server.addService(contract.Worker.service, worker);
  const health = new HealthService({
    services: [SERVICE_NAMES.SpeechToText, SERVICE_NAMES.Translator, SERVICE_NAMES.Worker],
    initialStatus: 'SERVING',
  });
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, boundPort) =>
      err ? reject(err) : resolve(boundPort),
    );
  });
  t.teardown(() => server.forceShutdown());
  return { address: `127.0.0.1:${port}`, health };
}

function connect<C extends grpc.Client>(t: Teardown, Client: ClientConstructor<C>, address: string): C {
  const client = new Client(address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  return client;
}

function unary<Res>(invoke: (callback: (err: grpc.ServiceError | null, value?: Res) => void) => void): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    invoke((err, value) => {
      if (err) reject(err);
      else if (value === undefined) reject(new Error('no response and no error'));
      else resolve(value);
    });
  });
}

/** Reads a recognition stream to its end; rejects with the call's ServiceError on a non-OK status. */
function readEvents(call: grpc.ClientDuplexStream<AudioRequest, RecognitionEvent__Output>): Promise<RecognitionEvent__Output[]> {
  return new Promise((resolve, reject) => {
    const events: RecognitionEvent__Output[] = [];
    call.on('data', (event: RecognitionEvent__Output) => events.push(event));
    // grpc-js emits 'error' for a non-OK status before 'end' could fire, so a failed call never resolves.
    call.on('error', reject);
    call.on('end', () => resolve(events));
  });
}

function audioChunk(): AudioRequest {
  return { audio: Buffer.alloc(RECOMMENDED_AUDIO_CHUNK_BYTES) };
}

// ---- round trips ----------------------------------------------------------------------------

t.test('StreamingRecognize: config + 3 chunks gives interims then one final with word timings', async (t) => {
  const { address } = await startWorker(t);
  const client = connect(t, contract.SpeechToText.Client, address);
  const call = client.StreamingRecognize();
  const status = once(call, 'status');
  const events = readEvents(call);

  call.write({
    config: {
      sessionId: 'session-1',
      trackId: 'track-1',
      orgId: 'org-1',
      language: 'en-US',
      sampleRateHz: SAMPLE_RATE_HZ,
      encoding: 'LINEAR16',
      interimResults: true,
      phraseHints: ['Polyglot'],
    },
  });
  for (let i = 0; i < 3; i++) call.write(audioChunk());
  call.end();

  const received = await events;
  const [{ code }] = await status;
  t.equal(code, grpc.status.OK);
  t.same(
    received.map((e) => [e.isFinal, e.text]),
    [
      [false, 'one'],
      [false, 'one two'],
      [false, 'one two three'],
      [true, 'one two three'],
    ],
  );
  t.ok(received.every((e) => e.segmentId === 'seg-1' && e.engine === 'fake-stt'), 'one segment id and engine for the stream');
  const final = received.at(-1);
  t.ok(final);
  if (final === undefined) return;
  t.equal(final.startMs, 0);
  t.equal(final.endMs, 300);
  t.ok(Math.abs(final.confidence - 0.75) < 1e-6, 'float confidence survives the wire');
  t.same(
    final.words.map((w) => [w.word, w.startMs, w.endMs]),
    [
      ['one', 0, 100],
      ['two', 100, 200],
      ['three', 200, 300],
    ],
  );
  t.equal(received[0]?.confidence, 0, 'interims carry no confidence');
});

t.test('StreamingRecognize: audio before config fails with INVALID_ARGUMENT', async (t) => {
  const { address } = await startWorker(t);
  const client = connect(t, contract.SpeechToText.Client, address);
  const call = client.StreamingRecognize();
  const events = readEvents(call);
  call.write(audioChunk());
  call.end();
  await t.rejects(events, { code: grpc.status.INVALID_ARGUMENT, details: 'first message must be config' });
});

t.test('Translate: 2 texts x 2 targets gives 4 results, target-major', async (t) => {
  const { address } = await startWorker(t);
  const client = connect(t, contract.Translator.Client, address);
  const request: TranslateRequest = {
    texts: ['hello', 'goodbye'],
    sourceLanguage: 'en',
    targetLanguages: ['fr', 'de-AT'],
    glossaries: [{ orgId: 'org-1', targetLanguage: 'fr', version: 7, entries: [{ sourceTerm: 'hello', targetTerm: 'salut' }] }],
    orgId: 'org-1',
    requestId: 'req-1',
    purpose: 'LIVE',
  };
  const response = await unary<TranslateResponse__Output>((cb) => client.Translate(request, cb));
  t.same(
    response.results.map((r) => [r.textIndex, r.targetLanguage, r.text, r.engine]),
    [
      [0, 'fr', '[fr] hello', 'fake-mt'],
      [1, 'fr', '[fr] goodbye', 'fake-mt'],
      [0, 'de-AT', '[de-AT] hello', 'fake-mt'],
      [1, 'de-AT', '[de-AT] goodbye', 'fake-mt'],
    ],
  );
  t.same(
    receivedGlossaries,
    [{ orgId: 'org-1', targetLanguage: 'fr', version: 7, entries: [{ sourceTerm: 'hello', targetTerm: 'salut' }] }],
    'glossaries reach the worker with their entries',
  );
  t.ok(
    response.results.every((r) => r.detectedSourceLanguage === undefined),
    'detected_source_language is absent when the source was given',
  );

  const detected = await unary<TranslateResponse__Output>((cb) =>
    client.Translate({ ...request, sourceLanguage: '', targetLanguages: ['fr'] }, cb),
  );
  t.same(
    detected.results.map((r) => r.detectedSourceLanguage),
    ['en', 'en'],
    'detected_source_language is present when the source was detected',
  );

  await t.rejects(
    unary<TranslateResponse__Output>((cb) => client.Translate({ ...request, targetLanguages: ['ja'] }, cb)),
    { code: grpc.status.NOT_FOUND },
  );
});

t.test('Describe returns the worker description', async (t) => {
  const { address } = await startWorker(t);
  const client = connect(t, contract.Worker.Client, address);
  const description = await unary<WorkerDescription__Output>((cb) => client.Describe({}, cb));
  t.same(description, { ...DESCRIPTION, pairs: [] }, 'unset repeated fields decode as []');
});

t.test('Health: Check follows setStatus; the server-wide status is derived', async (t) => {
  const { address, health } = await startWorker(t);
  const client = connect(t, contract.Health.Client, address);
  const check = (service: string) =>
    unary<HealthCheckResponse__Output>((cb) => client.Check({ service }, cb)).then((r) => r.status);

  t.equal(await check(''), 'SERVING');
  t.equal(await check(SERVICE_NAMES.SpeechToText), 'SERVING');

  health.setStatus('NOT_SERVING', SERVICE_NAMES.SpeechToText);
  t.equal(await check(SERVICE_NAMES.SpeechToText), 'NOT_SERVING');
  t.equal(await check(SERVICE_NAMES.Translator), 'SERVING');
  t.equal(await check(''), 'NOT_SERVING', 'one service down takes the server down');

  health.setStatus('SERVING');
  t.equal(await check(''), 'SERVING');
  await t.rejects(check('polyglot.v1.Nope'), { code: grpc.status.NOT_FOUND });
});

t.test('HealthService rejects services it was not told about', async (t) => {
  const health = new HealthService({ services: [SERVICE_NAMES.Translator, SERVICE_NAMES.Worker] });
  t.equal(health.getStatus(), 'NOT_SERVING', 'NOT_SERVING until the worker says otherwise');
  t.throws(() => health.setStatus('SERVING', SERVICE_NAMES.SpeechToText), TypeError);
  t.throws(() => new HealthService({ services: [] }), TypeError);
});

t.test('Health: Watch gets one message per change of the server-wide status', async (t) => {
  const { address, health } = await startWorker(t);
  const client = connect(t, contract.Health.Client, address);
  const watch = client.Watch({ service: '' });
  // A watch only ends by cancellation, which grpc-js reports as an 'error'; this listener takes it.
  const watchEnded = once(watch, 'error');
  t.teardown(() => watch.cancel());
  const statuses: string[] = [];
  const seen = (n: number) =>
    new Promise<void>((resolve) => {
      const onData = (message: HealthCheckResponse__Output) => {
        statuses.push(message.status);
        if (statuses.length === n) {
          watch.off('data', onData);
          resolve();
        }
      };
      watch.on('data', onData);
    });

  await seen(1);
  health.setStatus('NOT_SERVING', SERVICE_NAMES.Translator);
  health.setStatus('NOT_SERVING', SERVICE_NAMES.SpeechToText); // overall unchanged: no message
  health.setStatus('SERVING');
  await seen(3);
  t.same(statuses, ['SERVING', 'NOT_SERVING', 'SERVING']);
  watch.cancel();
  t.match((await watchEnded)[0], { code: grpc.status.CANCELLED });
});

// ---- loading and drift ----------------------------------------------------------------------

t.test('findProtoRoot finds proto/ from the source tree, from dist/ and not from elsewhere', async (t) => {
  const expected = join(repoRoot, 'proto');
  t.equal(findProtoRoot(), expected);
  t.equal(findProtoRoot(pathToFileURL(join(repoRoot, 'proto', 'src', 'index.ts'))), expected);
  t.equal(findProtoRoot(pathToFileURL(join(repoRoot, 'dist', 'proto', 'src', 'index.js'))), expected);
  const elsewhere = await mkdtemp(join(tmpdir(), 'pc-proto-root-'));
  t.teardown(() => rm(elsewhere, { recursive: true, force: true }));
  t.throws(() => findProtoRoot(elsewhere), ContractLoadError);
});

t.test('loadContract refuses .proto files that no longer match the generated types', async (t) => {
  const copy = await mkdtemp(join(tmpdir(), 'pc-proto-drift-'));
  t.teardown(() => rm(copy, { recursive: true, force: true }));
  await cp(join(contract.protoRoot, 'polyglot'), join(copy, 'polyglot'), { recursive: true });
  const workerProto = join(copy, 'polyglot', 'v1', 'worker.proto');
  const source = await readFile(workerProto, 'utf8');
  await writeFile(workerProto, source.replace('rpc Describe(', 'rpc DescribeSelf('));
  t.throws(() => loadContract({ protoRoot: copy }), { name: 'ContractLoadError', message: /Worker .*does not declare exactly Describe/ });
});

t.test('language matching: exact tags, or a bare language for any region', async (t) => {
  const cases: [string[], string, boolean][] = [
    [['en'], 'en', true],
    [['en'], 'EN-gb', true],
    [['en-US'], 'en-us', true],
    [['en-US'], 'en', false],
    [['en-US'], 'en-GB', false],
    [['zh'], 'zh-Hant', true],
    [['en'], '', false],
    [[], 'en', false],
  ];
  for (const [offered, requested, accepted] of cases) {
    t.equal(acceptsLanguage(offered, requested), accepted, `${JSON.stringify(offered)} ${accepted ? 'accepts' : 'rejects'} "${requested}"`);
  }
  t.ok(acceptsPair([{ source: 'en', target: 'fr' }], 'en-US', 'fr-CA'));
  t.notOk(acceptsPair([{ source: 'en', target: 'fr' }], 'fr', 'en'), 'pairs are directed');
});

t.test('committed types equal a fresh `npm run gen:proto`, each marked as generated', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'pc-proto-gen-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  await generateTypes(out);

  const [committed, fresh] = await Promise.all([listFiles(COMMITTED_GEN_DIR), listFiles(out)]);
  t.same(committed, fresh, 'same file list');
  const differing: string[] = [];
  const unmarked: string[] = [];
  for (const file of fresh) {
    const [a, b] = await Promise.all([readFile(join(COMMITTED_GEN_DIR, file), 'utf8'), readFile(join(out, file), 'utf8')]);
    if (a !== b) differing.push(file);
    if (!a.startsWith(GENERATED_HEADER)) unmarked.push(file);
  }
  t.same(differing, [], 'same contents (run `npm run gen:proto` and commit the result)');
  t.same(unmarked, [], 'every generated file starts with the "do not edit" header');
});

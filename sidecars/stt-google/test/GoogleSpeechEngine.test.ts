import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import tap from 'tap';
import { GoogleSpeechStandIn, type GoogleSpeechStandInOptions } from '../../../test/standins/GoogleSpeechStandIn.js';
import { chunksOf, scriptAudio, type ScriptPart, type ScriptedWord } from '../../../test/standins/wordAudio.js';
import {
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PolyglotError,
  QuotaExceededError,
  UnavailableError,
  type RecognitionResult,
  type SpeechStream,
  type SpeechStreamConfig,
} from '../../sdk/src/index.js';
import { GoogleSpeechEngine } from '../src/GoogleSpeechEngine.js';
import type { RotationOptions, SpeechTimers } from '../src/GoogleSpeechStream.js';

type Teardown = Pick<typeof tap, 'teardown'>;
const log = pino({ level: 'silent' });

/** Timers that fire only when the test says so: no test depends on wall time. */
class ManualTimers implements SpeechTimers {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  #next = 0;
  schedule(fn: () => void, ms: number): () => void {
    const id = this.#next++;
    this.pending.set(id, { fn, ms });
    return () => this.pending.delete(id);
  }
  /** Fires every pending timer of `ms`. */
  fire(ms: number): number {
    const due = [...this.pending].filter(([, timer]) => timer.ms === ms);
    for (const [id, timer] of due) {
      this.pending.delete(id);
      timer.fn();
    }
    return due.length;
  }
}

const CONFIG: SpeechStreamConfig = {
  sessionId: 's1',
  trackId: 't1',
  orgId: 'o1',
  language: 'en-US',
  sampleRateHz: 16000,
  interimResults: true,
  phraseHints: ['Polyglot', 'keynote'],
};

async function setup(t: Teardown, standInOptions: GoogleSpeechStandInOptions, rotation: Partial<RotationOptions>) {
  const standIn = await GoogleSpeechStandIn.start(standInOptions);
  const timers = new ManualTimers();
  const engine = new GoogleSpeechEngine({
    languages: ['en'],
    // Loopback only: insecure channel, and universeDomain set so nothing probes a metadata server.
    clientOptions: { apiEndpoint: '127.0.0.1', port: standIn.port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com', projectId: 'test-project' },
    rotation,
    timers,
    log,
  });
  t.teardown(async () => {
    await engine.close();
    standIn.close();
  });
  return { standIn, engine, timers };
}

/** Consumes a stream in the background; lets the test wait for a result, never for time. */
class Collector {
  readonly results: RecognitionResult[] = [];
  readonly done: Promise<void>;
  #waiters: { test: (r: RecognitionResult) => boolean; resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(stream: SpeechStream) {
    this.done = (async () => {
      try {
        for await (const r of stream) {
          this.results.push(r);
          this.#waiters = this.#waiters.filter((w) => (w.test(r) ? (w.resolve(), false) : true));
        }
      } catch (err) {
        for (const w of this.#waiters) w.reject(err);
        throw err;
      }
      for (const w of this.#waiters) w.reject(new Error('stream ended before the awaited result'));
    })();
    this.done.catch(() => {});
  }

  /** Resolves at the first final that contains `word`. */
  finalWith(word: string): Promise<void> {
    if (this.finals.some((r) => r.words.some((w) => w.word === word))) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ test: (r) => r.isFinal && r.words.some((w) => w.word === word), resolve, reject }));
  }

  get finals(): RecognitionResult[] {
    return this.results.filter((r) => r.isFinal);
  }
}

/** `count` utterances of `wordsPer` distinct 200 ms words, each followed by `pauseMs` of silence. */
function utterances(count: number, wordsPer: number, pauseMs: number): ScriptPart[][] {
  return Array.from({ length: count }, (_, u) => [
    ...Array.from({ length: wordsPer }, (_, i) => ({ word: u * wordsPer + i + 1, ms: 200 })),
    { pauseMs },
  ]);
}

/**
 * Feeds the script like a live source: 100 ms chunks, one utterance at a time, each utterance sent
 * as soon as the final for the previous one arrived (a live speaker does not wait, but real time
 * gives Google the same head start). Returns where every word is in the stream's audio.
 */
async function feed(stream: SpeechStream, collector: Collector, script: ScriptPart[][]): Promise<ScriptedWord[]> {
  const all = scriptAudio(script.flat());
  let offsetMs = 0;
  for (const parts of script) {
    const { pcm, words } = scriptAudio(parts);
    for (const chunk of chunksOf(pcm, 100)) stream.pushAudio(chunk);
    offsetMs += pcm.length / 32;
    const last = words[words.length - 1];
    if (last) await collector.finalWith(last.word);
  }
  stream.endInput();
  await collector.done;
  if (offsetMs !== all.pcm.length / 32) throw new Error('script offsets disagree');
  return all.words;
}

function checkExactlyOnce(t: Pick<typeof tap, 'same' | 'equal' | 'ok'>, collector: Collector, expected: ScriptedWord[]): void {
  const got = collector.finals.flatMap((r) => r.words);
  t.same(got.map((w) => w.word), expected.map((w) => w.word), 'every word exactly once, in order');
  t.same(got.map((w) => w.startMs), expected.map((w) => w.startMs), 'word offsets on the stream timeline');
  const segmentIds = collector.finals.map((r) => r.segmentId);
  t.equal(new Set(segmentIds).size, segmentIds.length, 'one final per segment');
  for (const r of collector.results.filter((x) => !x.isFinal)) {
    t.ok(segmentIds.includes(r.segmentId), `interim ${r.segmentId} is closed by a final`);
  }
}

tap.test('a stream without rotation: interims, finals, word offsets, phrase hints', async (t) => {
  const { standIn, engine } = await setup(t, {}, {});
  const stream = engine.openStream(CONFIG, new AbortController().signal);
  const collector = new Collector(stream);
  const words = await feed(stream, collector, utterances(3, 3, 400));
  checkExactlyOnce(t, collector, words);
  t.ok(collector.results.some((r) => !r.isFinal), 'interims arrive');
  t.equal(standIn.calls.length, 1);
  const config = standIn.calls[0]?.config?.config;
  t.same(config?.speechContexts?.[0]?.phrases, ['Polyglot', 'keynote'], 'glossary terms are phrase hints');
  t.equal(config?.enableWordTimeOffsets, true);
  t.equal(config?.sampleRateHertz, 16000);
  t.equal(standIn.calls[0]?.status, 'ok', 'half-closed and ended cleanly');
});

tap.test('rotation at a final boundary before the limit loses and repeats nothing', async (t) => {
  // 20 s of speech; the stand-in ends any call at 5 s, we rotate after the first final past 2.5 s.
  const { standIn, engine } = await setup(t, { limitMs: 5_000 }, { rotateAtFinalAfterAudioMs: 2_500, rotateAfterAudioMs: 4_000, maxReplayMs: 2_000 });
  const stream = engine.openStream(CONFIG, new AbortController().signal);
  const collector = new Collector(stream);
  const words = await feed(stream, collector, utterances(20, 3, 400));
  checkExactlyOnce(t, collector, words);
  t.ok(standIn.calls.length >= 6, `rotated (${standIn.calls.length} provider calls for 20 s)`);
  t.notOk(standIn.calls.some((c) => c.status === 'out_of_range'), 'no call reached the provider limit');
  t.ok(standIn.calls.every((c) => c.audioBytes <= 5_000 * 32), 'no call carried more than the limit');
});

tap.test('a forced rotation in the middle of an utterance loses and repeats nothing', async (t) => {
  // Utterances of 1.6 s: the hard limit (2.2 s) always falls inside one, never at a final.
  const { standIn, engine } = await setup(t, { limitMs: 3_000 }, { rotateAtFinalAfterAudioMs: 2_200, rotateAfterAudioMs: 2_200, maxReplayMs: 1_100 });
  const stream = engine.openStream(CONFIG, new AbortController().signal);
  const collector = new Collector(stream);
  const words = await feed(stream, collector, utterances(12, 8, 400));
  checkExactlyOnce(t, collector, words);
  t.ok(standIn.calls.length >= 6, `rotated (${standIn.calls.length} provider calls)`);
  t.notOk(standIn.calls.some((c) => c.status === 'out_of_range'));
  // The seam cut a word in the old call: the words finalized by old calls plus new ones add up.
  const finalizedByStandIn = standIn.calls.flatMap((c) => c.finalWords);
  t.ok(finalizedByStandIn.length > words.length, 'calls overlapped (the replayed audio was recognized twice)');
});

tap.test('a call the provider ends at its limit is replaced from the last final', async (t) => {
  // We never rotate; the stand-in ends each call after 2.5 s with OUT_OF_RANGE, like Google at 5 min.
  const { standIn, engine } = await setup(t, { limitMs: 2_500 }, { rotateAtFinalAfterAudioMs: 100_000, rotateAfterAudioMs: 100_000, maxReplayMs: 5_000, maxReopens: 2 });
  const stream = engine.openStream(CONFIG, new AbortController().signal);
  const collector = new Collector(stream);
  const words = await feed(stream, collector, utterances(15, 4, 400));
  checkExactlyOnce(t, collector, words);
  const ended = standIn.calls.filter((c) => c.status === 'out_of_range').length;
  t.ok(ended >= 4, `the provider ended ${ended} calls at its limit`);
});

tap.test('idle audio: the call is half-closed and the next audio opens a new one', async (t) => {
  const { standIn, engine, timers } = await setup(t, {}, { idleMs: 5_000 });
  const stream = engine.openStream(CONFIG, new AbortController().signal);
  const collector = new Collector(stream);
  // An utterance with no trailing silence: only a flush can finalize it.
  const first = scriptAudio([{ word: 1, ms: 200 }, { word: 2, ms: 200 }]);
  for (const chunk of chunksOf(first.pcm, 100)) stream.pushAudio(chunk);
  t.equal(timers.fire(5_000), 1, 'the idle timer fired');
  await collector.finalWith('w2');
  t.equal(standIn.calls[0]?.status, 'ok', 'the idle call was half-closed, not failed');
  const second = scriptAudio([{ word: 3, ms: 200 }, { pauseMs: 400 }]);
  for (const chunk of chunksOf(second.pcm, 100)) stream.pushAudio(chunk);
  await collector.finalWith('w3');
  stream.endInput();
  await collector.done;
  t.same(collector.finals.flatMap((r) => r.words.map((w) => [w.word, w.startMs])), [['w1', 0], ['w2', 200], ['w3', 400]]);
  t.equal(standIn.calls.length, 2);
});

tap.test('provider errors: UNAVAILABLE is retried on a new call, others fail the stream with SDK errors', async (t) => {
  const { standIn, engine } = await setup(t, {}, {});

  standIn.failNext(grpc.status.UNAVAILABLE);
  const retried = engine.openStream(CONFIG, new AbortController().signal);
  const collector = new Collector(retried);
  const words = await feed(retried, collector, utterances(2, 2, 400));
  checkExactlyOnce(t, collector, words);
  t.equal(standIn.calls.length, 2, 'one failed call, one replacement');

  const cases: [grpc.status, new (...args: never[]) => Error, boolean][] = [
    [grpc.status.RESOURCE_EXHAUSTED, QuotaExceededError, true],
    [grpc.status.PERMISSION_DENIED, InternalError, false],
    [grpc.status.INVALID_ARGUMENT, InvalidArgumentError, false],
  ];
  for (const [code, cls, retryable] of cases) {
    standIn.failNext(code);
    const stream = engine.openStream(CONFIG, new AbortController().signal);
    const failing = new Collector(stream);
    stream.pushAudio(scriptAudio([{ word: 1, ms: 200 }]).pcm);
    const err = await failing.done.then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof cls && PolyglotError.is(err), `${grpc.status[code]} -> ${cls.name}`);
    t.equal(PolyglotError.is(err) && err.retryable, retryable, `${grpc.status[code]} retryable=${retryable}`);
  }

  standIn.failNext(grpc.status.UNAVAILABLE, 10);
  const down = engine.openStream(CONFIG, new AbortController().signal);
  const downCollector = new Collector(down);
  down.pushAudio(scriptAudio([{ word: 1, ms: 200 }]).pcm);
  const err = await downCollector.done.then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof UnavailableError, 'gives up after maxReopens replacements');
});

tap.test('the engine checks languages and its stream limit', async (t) => {
  const standIn = await GoogleSpeechStandIn.start();
  const engine = new GoogleSpeechEngine({
    languages: ['en', 'de-DE'],
    maxStreams: 1,
    clientOptions: { apiEndpoint: '127.0.0.1', port: standIn.port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com', projectId: 'p' },
    log,
  });
  t.teardown(async () => {
    await engine.close();
    standIn.close();
  });
  t.throws(() => engine.openStream({ ...CONFIG, language: 'fr-FR' }, new AbortController().signal), NotFoundError);
  t.throws(() => engine.openStream({ ...CONFIG, language: 'de' }, new AbortController().signal), NotFoundError, '"de" is not accepted by "de-DE"');
  const abort = new AbortController();
  engine.openStream({ ...CONFIG, language: 'en-GB' }, abort.signal);
  t.throws(() => engine.openStream(CONFIG, new AbortController().signal), QuotaExceededError);
  abort.abort();
  t.doesNotThrow(() => engine.openStream(CONFIG, new AbortController().signal).close(), 'an aborted stream frees its slot');
});

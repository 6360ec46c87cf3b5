import { monitorEventLoopDelay } from 'node:perf_hooks';

import { pino } from 'pino';
import t from 'tap';

import { QuotaExceededError, type RecognitionResult, type SpeechStream, type SpeechStreamConfig } from '../../sdk/src/index.js';
import { PocketSphinxEngine } from '../src/PocketSphinxEngine.js';
import { SENTENCES, speak, wordErrorRate, type Speech } from '../../../test/support/festivalSpeech.js';

const log = pino({ level: 'silent' });

const CONFIG: SpeechStreamConfig = {
  sessionId: 's',
  trackId: 't',
  orgId: 'o',
  language: 'en-US',
  sampleRateHz: 16_000,
  interimResults: true,
  phraseHints: [],
};

/** Feeds `speech` in 100 ms chunks as fast as the stream takes it, then reads every result. */
async function transcribe(stream: SpeechStream, speech: Speech): Promise<RecognitionResult[]> {
  for (let offset = 0; offset < speech.pcm.length; offset += 3_200) stream.pushAudio(speech.pcm.subarray(offset, offset + 3_200));
  stream.endInput();
  const results: RecognitionResult[] = [];
  for await (const result of stream) results.push(result);
  return results;
}

t.test('interims while speaking, one final per sentence with word timings', async (t) => {
  const engine = await PocketSphinxEngine.start({ log, maxStreams: 2 });
  t.teardown(() => engine.close());
  const speech = await speak(t, SENTENCES.slice(0, 4));
  const results = await transcribe(engine.openStream(CONFIG, new AbortController().signal), speech);
  const finals = results.filter((r) => r.isFinal);
  t.equal(finals.length, 4, 'one final per sentence');
  t.equal(new Set(finals.map((f) => f.segmentId)).size, 4, 'a segment id per utterance');
  let errors = 0;
  let words = 0;
  for (const [i, sentence] of speech.sentences.entries()) {
    const final = finals[i];
    if (!final) continue;
    const wer = wordErrorRate(sentence.text, final.text);
    errors += wer * sentence.text.split(' ').length;
    words += sentence.text.split(' ').length;
    t.comment(`ref: ${sentence.text}\nhyp: ${final.text}  (WER ${(wer * 100).toFixed(0)} %)`);
    t.ok(wer <= 0.34, `sentence ${i + 1} recognized (WER ${(wer * 100).toFixed(0)} %)`);
    t.ok(final.words.length > 0, 'words have timings');
    const first = final.words[0];
    const last = final.words.at(-1);
    t.ok(first && Math.abs(first.startMs - sentence.startMs) < 400, `first word starts with the sentence (${first?.startMs} vs ${sentence.startMs} ms)`);
    t.ok(last && Math.abs(last.endMs - sentence.endMs) < 400, `last word ends with the sentence (${last?.endMs} vs ${sentence.endMs} ms)`);
    t.ok(final.confidence > 0 && final.confidence <= 1, 'confidence in (0, 1]');
    const interims = results.filter((r) => !r.isFinal && r.segmentId === final.segmentId);
    t.ok(interims.length >= 2, `${interims.length} interims before the final`);
    t.ok(results.indexOf(final) > results.indexOf(interims.at(-1) ?? final), 'interims come before their final');
  }
  t.comment(`WER over ${words} words: ${((errors / words) * 100).toFixed(1)} %`);
});

t.test('streams decode concurrently, off the event loop; beyond maxStreams is refused', async (t) => {
  const engine = await PocketSphinxEngine.start({ log, maxStreams: 2, warmDecoders: 2 });
  t.teardown(() => engine.close());
  const speech = await speak(t, SENTENCES.slice(2, 4));
  const a = engine.openStream(CONFIG, new AbortController().signal);
  const b = engine.openStream({ ...CONFIG, interimResults: false }, new AbortController().signal);
  t.throws(() => engine.openStream(CONFIG, new AbortController().signal), QuotaExceededError);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = performance.now();
  const [ra, rb] = await Promise.all([transcribe(a, speech), transcribe(b, speech)]);
  const elapsedMs = performance.now() - started;
  delay.disable();
  t.comment(`2 streams x ${(speech.pcm.length / 32_000).toFixed(1)} s of audio decoded in ${elapsedMs.toFixed(0)} ms; event loop delay max ${(delay.max / 1e6).toFixed(0)} ms`);
  // Coarse on purpose: it catches a decoder that stalls the event loop for a second or more, and
  // leaves room for scheduling noise on a loaded 2-core machine (up to ~300 ms seen under load).
  t.ok(delay.max / 1e6 < 1_000, 'the event loop kept running while both decoded');
  t.same(ra.filter((r) => r.isFinal).map((r) => r.text), rb.filter((r) => r.isFinal).map((r) => r.text), 'same audio, same transcript');
  t.equal(rb.filter((r) => !r.isFinal).length, 0, 'no interims when not asked for');
  t.equal(ra.filter((r) => r.isFinal).length, 2);
  // Both slots are free again once their streams ended: a third stream is taken.
  const c = engine.openStream(CONFIG, new AbortController().signal);
  c.close();
  t.equal(engine.threads, 2, 'threads are kept for the next streams');
});

t.test('a closed stream frees its decoder at once; abort closes', async (t) => {
  const engine = await PocketSphinxEngine.start({ log, maxStreams: 1 });
  t.teardown(() => engine.close());
  const abort = new AbortController();
  const stream = engine.openStream(CONFIG, abort.signal);
  stream.pushAudio(Buffer.alloc(32_000));
  abort.abort();
  const results: RecognitionResult[] = [];
  for await (const result of stream) results.push(result);
  t.same(results, [], 'iteration ends after close');
  const next = engine.openStream(CONFIG, new AbortController().signal);
  const speech = await speak(t, SENTENCES.slice(1, 2));
  const finals = (await transcribe(next, speech)).filter((r) => r.isFinal);
  t.equal(finals.length, 1);
  t.ok(wordErrorRate(SENTENCES[1] ?? '', finals[0]?.text ?? '') <= 0.34, `recognized after a reset: ${finals[0]?.text}`);
});

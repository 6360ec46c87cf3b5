// The quality scoreboard (docs/quality.md): the corpus spoken by several voices, at two rates,
// clean and at 10 dB SNR, recognized by the real stt-local worker and translated by the real
// mt-local worker, both reached as the platform reaches them (worker registry on NATS, gRPC).
import * as grpc from '@grpc/grpc-js';
import { connect } from 'nats';
import { pino } from 'pino';

import { ResilientSpeechStream, WorkerRegistry, type SpeechResult } from '../../sidecars/client/src/index.js';
import { loadContract, type TranslateResponse__Output, type TranslatorClient } from '../../sidecars/sdk/src/index.js';
import { WorkerProcess } from '../../sidecars/sdk/test/workerProcess.js';
import { percentile } from '../result.js';
import { corpusChrf } from './chrF.js';
import { corpusClips, loadCorpus, NOISES, RATES, VOICES, type Clip, type CorpusSentence } from './corpus.js';
import { corpusWer } from './wer.js';

export interface ScoreboardOptions {
  natsUrl: string;
  cacheDir: string;
  /** Audio pace: 1 is real time (the only pace at which latency means what it says). */
  speed: number;
  /** Clips recognized at once (one decoder thread each). */
  concurrency: number;
  /** Use only the first n sentences (development); undefined for the whole corpus. */
  sentences?: number;
  /** Use only these sentence ids (a subset for a quick run); undefined for all. */
  sentenceIds?: string[];
  log: (line: string) => void;
}

export interface UtteranceResult {
  id: string;
  voice: string;
  rate: string;
  noise: string;
  hints: boolean;
  hypothesis: string;
  /** Speech end (the 100 ms chunk holding it sent) -> the utterance's last final received. */
  latencyMs: number;
  snrDb: number | null;
}

export interface GroupFigures {
  utterances: number;
  wer: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  chrfEs: number;
  chrfCa: number;
}

export interface ScoreboardRun {
  figures: {
    overall: GroupFigures;
    byVoice: Record<string, GroupFigures>;
    byRate: Record<string, GroupFigures>;
    byNoise: Record<string, GroupFigures>;
    byCondition: Record<string, GroupFigures>;
    /** Translation of the reference English, as written (cased, punctuated, digits) and as spoken (the transcript a perfect recognizer would give). */
    referenceChrf: { writtenEs: number; writtenCa: number; spokenEs: number; spokenCa: number };
    hints: { sentences: number; utterances: number; werWithout: number; werWith: number; hintedWordsRecalledWithout: number; hintedWordsRecalledWith: number };
    snr: { target: number; measuredMin: number; measuredMax: number };
  };
  utterances: UtteranceResult[];
  translations: { reference: Record<string, { es: string; ca: string }>; recognized: Record<string, { es: string; ca: string }> };
}

const CHUNK_BYTES = 3_200;

function pace(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** One clip through a speech stream at `speed`, as a live tap would send it: 100 ms chunks. */
async function recognize(registry: WorkerRegistry, clip: Clip, hints: string[], speed: number): Promise<{ text: string; latencyMs: number }> {
  const stream = new ResilientSpeechStream({
    registry,
    // A loaded machine delays announcements; waiting is better than losing the utterance.
    workerWaitMs: 60_000,
    ...(process.env.PC_QUALITY_DEBUG ? { log: pino({ level: 'debug' }, process.stderr) } : {}),
    config: { sessionId: 'quality', trackId: `${clip.sentence.id}-${clip.voice}-${clip.rate}-${clip.noise}`, orgId: 'bench', language: 'en-US', interimResults: false, phraseHints: hints },
  });
  const finals: { result: SpeechResult; at: number }[] = [];
  const reading = (async () => {
    for await (const result of stream) if (result.isFinal) finals.push({ result, at: performance.now() });
  })();
  const chunkMs = CHUNK_BYTES / 32;
  const speechEndChunk = Math.ceil(clip.speechEndMs / chunkMs);
  const started = performance.now();
  let speechEndAt = started;
  for (let i = 0, offset = 0; offset < clip.pcm.length; i++, offset += CHUNK_BYTES) {
    // A chunk exists once its 100 ms have been spoken.
    await pace(started + ((i + 1) * chunkMs) / speed - performance.now());
    stream.pushAudio(clip.pcm.subarray(offset, offset + CHUNK_BYTES));
    if (i + 1 === speechEndChunk) speechEndAt = performance.now();
  }
  stream.endInput();
  await reading;
  stream.close();
  const last = finals.at(-1);
  return { text: finals.map((f) => f.result.text).join(' ').trim(), latencyMs: last ? Math.round(last.at - speechEndAt) : Number.NaN };
}

async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
    }),
  );
  return out;
}

function translate(client: TranslatorClient, texts: string[]): Promise<{ es: string[]; ca: string[] }> {
  return new Promise((resolve, reject) =>
    client.Translate({ texts, sourceLanguage: 'en', targetLanguages: ['es', 'ca'], orgId: 'bench' }, { deadline: Date.now() + 120_000 }, (err, value?: TranslateResponse__Output) => {
      if (err || !value) return reject(err ?? new Error('no response'));
      const es = new Array<string>(texts.length).fill('');
      const ca = new Array<string>(texts.length).fill('');
      for (const r of value.results) (r.targetLanguage.startsWith('es') ? es : ca)[r.textIndex] = r.text;
      resolve({ es, ca });
    }),
  );
}

/** Translates many texts in requests of at most 100 (the contract allows 128). */
async function translateAll(client: TranslatorClient, texts: string[]): Promise<{ es: string[]; ca: string[] }> {
  const es: string[] = [];
  const ca: string[] = [];
  for (let i = 0; i < texts.length; i += 100) {
    // Apertium turns '' into ''; skip the call for a batch of nothing but empty hypotheses.
    const batch = texts.slice(i, i + 100);
    const got = batch.every((t) => t === '') ? { es: batch, ca: batch } : await translate(client, batch);
    es.push(...got.es);
    ca.push(...got.ca);
  }
  return { es, ca };
}

/** How many of the hinted words of `sentence` appear in `hypothesis`. */
function hintedRecalled(sentence: CorpusSentence, hypothesis: string): { found: number; total: number } {
  const words = new Set(hypothesis.toLowerCase().split(/\s+/));
  const hinted = (sentence.hinted ?? []).map((h) => h.toLowerCase());
  return { found: hinted.filter((h) => words.has(h)).length, total: hinted.length };
}

export async function runScoreboard(opts: ScoreboardOptions): Promise<ScoreboardRun> {
  const corpus = await loadCorpus();
  const sentences = corpus.sentences.slice(0, opts.sentences ?? corpus.sentences.length).filter((s) => !opts.sentenceIds || opts.sentenceIds.includes(s.id));
  const byId = new Map(sentences.map((s) => [s.id, s]));
  opts.log(`quality: ${sentences.length} sentences x ${VOICES.length} voices x ${RATES.length} rates x ${NOISES.length} noise conditions; audio cache ${opts.cacheDir}`);
  const clips = await corpusClips(opts.cacheDir, sentences);
  const snrs = clips.filter((c) => c.noise !== 'clean').map((c) => c.snrDb);

  const teardown: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => void teardown.push(fn) };
  const nc = await connect({ servers: opts.natsUrl });
  try {
    const subject = `bench.quality.${process.pid}`;
    const registry = await WorkerRegistry.start({ nats: nc, subject });
    teardown.push(() => registry.close());
    const env = { PC_NATS_URL: opts.natsUrl, PC_REGISTRY_SUBJECT: subject, PC_ANNOUNCE_INTERVAL_MS: '500', PC_METRICS_PORT: 'off' };
    // Twice the streams the bench runs at once: a decoder thread reloads its model after each
    // stream, and a worker whose threads are all reloading looks full to the registry.
    const stt = new WorkerProcess(t, 'sidecars/stt-local/src/main.ts', { ...env, PC_WORKER_ID: 'quality-stt', PC_STT_MAX_STREAMS: String(Math.min(64, 2 * opts.concurrency + 1)), PC_STT_WARM_DECODERS: String(opts.concurrency) });
    const mt = new WorkerProcess(t, 'sidecars/mt-local/src/main.ts', { ...env, PC_WORKER_ID: 'quality-mt', PC_MT_MODES: 'eng-spa,eng-cat' });
    await Promise.all([stt.ready, mt.ready]).catch((err: unknown) => {
      throw new Error(`a worker did not start: ${[...stt.lines, ...mt.lines].slice(-5).join(' | ')}`, { cause: err });
    });
    opts.log('quality: workers ready');
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('workers did not announce within 30 s')), 30_000);
    const [, mtInfo] = await Promise.all([registry.waitForSpeechWorker('en-US', ac.signal), registry.waitForTranslationWorker('en', 'ca', ac.signal)]);
    clearTimeout(timer);
    const client = new (loadContract().Translator.Client)(mtInfo.address, grpc.credentials.createInsecure());
    teardown.push(() => client.close());

    // Recognition: every clip without hints; the sentences with hinted words once more with them.
    const hintedClips = clips.filter((c) => (c.sentence.hinted?.length ?? 0) > 0);
    const jobs: { clip: Clip; hints: boolean }[] = [...clips.map((clip) => ({ clip, hints: false })), ...hintedClips.map((clip) => ({ clip, hints: true }))];
    opts.log(`quality: ${jobs.length} utterances to recognize`);
    let done = 0;
    const started = performance.now();
    const utterances = await pool(jobs, opts.concurrency, async ({ clip, hints }) => {
      const recognizeOnce = () => recognize(registry, clip, hints ? corpus.phraseHints : [], opts.speed);
      // One retry: an utterance lost to a worker that could not be reached is not a recognition error.
      const { text, latencyMs } = await recognizeOnce().catch((err: unknown) => {
        opts.log(`quality: ${clip.sentence.id} ${clip.voice}/${clip.rate}/${clip.noise} failed (${String(err)}); once more`);
        return recognizeOnce();
      });
      if (++done % 25 === 0 || process.env.PC_QUALITY_DEBUG) opts.log(`quality: ${done}/${jobs.length} utterances recognized (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      return { id: clip.sentence.id, voice: clip.voice, rate: clip.rate, noise: clip.noise, hints, hypothesis: text, latencyMs, snrDb: Number.isNaN(clip.snrDb) ? null : Number(clip.snrDb.toFixed(3)) } satisfies UtteranceResult;
    });

    // Translation: the recognized text of each plain utterance (deduplicated: the same text is
    // translated once), and the reference English as written and as spoken.
    const plain = utterances.filter((u) => !u.hints);
    const distinct = [...new Set([...plain.map((u) => u.hypothesis), ...sentences.map((s) => s.text), ...sentences.map((s) => s.spoken)])].sort();
    const translated = await translateAll(client, distinct);
    const tr = new Map(distinct.map((text, i) => [text, { es: translated.es[i] ?? '', ca: translated.ca[i] ?? '' }]));

    const group = (rows: UtteranceResult[]): GroupFigures => {
      const refs = rows.map((u) => byId.get(u.id)!);
      const latencies = rows.map((u) => u.latencyMs).filter((ms) => Number.isFinite(ms));
      return {
        utterances: rows.length,
        wer: round(corpusWer(rows.map((u, i) => ({ reference: refs[i]!.spoken, hypothesis: u.hypothesis }))), 4),
        latencyP50Ms: percentile(latencies, 50),
        latencyP95Ms: percentile(latencies, 95),
        chrfEs: round(corpusChrf(rows.map((u) => tr.get(u.hypothesis)?.es ?? ''), refs.map((s) => s.es)), 2),
        chrfCa: round(corpusChrf(rows.map((u) => tr.get(u.hypothesis)?.ca ?? ''), refs.map((s) => s.ca)), 2),
      };
    };
    const groupBy = (key: (u: UtteranceResult) => string): Record<string, GroupFigures> => {
      const groups = new Map<string, UtteranceResult[]>();
      for (const u of plain) groups.set(key(u), [...(groups.get(key(u)) ?? []), u]);
      return Object.fromEntries([...groups].map(([k, rows]) => [k, group(rows)]));
    };

    const withHints = utterances.filter((u) => u.hints);
    const sameWithout = plain.filter((u) => (byId.get(u.id)?.hinted?.length ?? 0) > 0);
    const recall = (rows: UtteranceResult[]): number => {
      let found = 0;
      let total = 0;
      for (const u of rows) {
        const r = hintedRecalled(byId.get(u.id)!, u.hypothesis);
        found += r.found;
        total += r.total;
      }
      return total === 0 ? 0 : round(found / total, 4);
    };
    const werOf = (rows: UtteranceResult[]): number => round(corpusWer(rows.map((u) => ({ reference: byId.get(u.id)!.spoken, hypothesis: u.hypothesis }))), 4);

    return {
      figures: {
        overall: group(plain),
        byVoice: groupBy((u) => u.voice),
        byRate: groupBy((u) => u.rate),
        byNoise: groupBy((u) => u.noise),
        byCondition: groupBy((u) => `${u.voice}/${u.rate}/${u.noise}`),
        referenceChrf: {
          writtenEs: round(corpusChrf(sentences.map((s) => tr.get(s.text)?.es ?? ''), sentences.map((s) => s.es)), 2),
          writtenCa: round(corpusChrf(sentences.map((s) => tr.get(s.text)?.ca ?? ''), sentences.map((s) => s.ca)), 2),
          spokenEs: round(corpusChrf(sentences.map((s) => tr.get(s.spoken)?.es ?? ''), sentences.map((s) => s.es)), 2),
          spokenCa: round(corpusChrf(sentences.map((s) => tr.get(s.spoken)?.ca ?? ''), sentences.map((s) => s.ca)), 2),
        },
        hints: {
          sentences: new Set(hintedClips.map((c) => c.sentence.id)).size,
          utterances: withHints.length,
          werWithout: werOf(sameWithout),
          werWith: werOf(withHints),
          hintedWordsRecalledWithout: recall(sameWithout),
          hintedWordsRecalledWith: recall(withHints),
        },
        snr: { target: 10, measuredMin: round(Math.min(...snrs), 3), measuredMax: round(Math.max(...snrs), 3) },
      },
      utterances,
      translations: {
        reference: Object.fromEntries(sentences.map((s) => [s.id, { es: tr.get(s.text)?.es ?? '', ca: tr.get(s.text)?.ca ?? '' }])),
        recognized: Object.fromEntries(distinct.map((text) => [text, tr.get(text)!])),
      },
    };
  } finally {
    for (const fn of teardown.reverse()) await fn();
    await nc.close();
  }
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

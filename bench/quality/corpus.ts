// The scoreboard's corpus (bench/corpus/sentences.json) and its audio: every sentence spoken by
// each voice at each rate, clean and with pink noise at 10 dB SNR. Audio is generated once into a
// cache directory keyed by voice, rate and text; the noisy copies are mixed here, exactly, from
// the clean speech and a fixed noise recording.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CorpusSentence {
  id: string;
  /** As written, with digits and punctuation. */
  text: string;
  /** Reference transcript: lowercase, no punctuation, numbers as said. The voices read this. */
  spoken: string;
  es: string;
  ca: string;
  /** The phrase-hint words this sentence contains. */
  hinted?: string[];
}

export interface Corpus {
  phraseHints: string[];
  sentences: CorpusSentence[];
}

/** The repository's root, from this file (bench/quality under ts-node, dist/bench/quality built). */
export function repoRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = here.split(path.sep).includes('dist') ? '../../..' : '../..';
  return path.resolve(here, up);
}

export async function loadCorpus(file = path.join(repoRoot(), 'bench/corpus/sentences.json')): Promise<Corpus> {
  const doc: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (typeof doc !== 'object' || doc === null) throw new TypeError(`${file}: not an object`);
  const hints: unknown = Reflect.get(doc, 'phraseHints');
  const sentences: unknown = Reflect.get(doc, 'sentences');
  if (!Array.isArray(hints) || !hints.every((h) => typeof h === 'string')) throw new TypeError(`${file}: phraseHints must be strings`);
  if (!Array.isArray(sentences)) throw new TypeError(`${file}: sentences must be an array`);
  const out: CorpusSentence[] = sentences.map((s: unknown, i) => {
    const field = (key: string): string => {
      const v: unknown = typeof s === 'object' && s !== null ? Reflect.get(s, key) : undefined;
      if (typeof v !== 'string' || v === '') throw new TypeError(`${file}: sentences[${i}].${key} must be a non-empty string`);
      return v;
    };
    const hinted: unknown = typeof s === 'object' && s !== null ? Reflect.get(s, 'hinted') : undefined;
    if (hinted !== undefined && !(Array.isArray(hinted) && hinted.every((h) => typeof h === 'string'))) throw new TypeError(`${file}: sentences[${i}].hinted`);
    return { id: field('id'), text: field('text'), spoken: field('spoken'), es: field('es'), ca: field('ca'), ...(hinted ? { hinted } : {}) };
  });
  return { phraseHints: hints, sentences: out };
}

export interface Voice {
  id: string;
  engine: 'espeak-ng' | 'festival';
  /** espeak-ng voice name. */
  voice?: string;
}

export interface Rate {
  id: string;
  /** espeak-ng words per minute (-s). */
  espeakWpm: number;
  /** Festival has no rate knob for its HTS voice here: sox `tempo` (WSOLA, pitch kept) speeds it up. */
  festivalTempo: number;
}

export const VOICES: readonly Voice[] = [
  { id: 'espeak-en-us', engine: 'espeak-ng', voice: 'en-us' },
  { id: 'espeak-en-gb', engine: 'espeak-ng', voice: 'en-gb' },
  { id: 'festival-slt', engine: 'festival' },
];

export const RATES: readonly Rate[] = [
  { id: 'normal', espeakWpm: 160, festivalTempo: 1 },
  { id: 'fast', espeakWpm: 210, festivalTempo: 1.3 },
];

export const NOISES = ['clean', 'snr10'] as const;
export type Noise = (typeof NOISES)[number];

export const SNR_DB = 10;
export const LEAD_MS = 300;
export const TRAIL_MS = 1_000;
const BYTES_PER_MS = 32;
const NOISE_SECONDS = 30;

export interface Clip {
  sentence: CorpusSentence;
  voice: string;
  rate: string;
  noise: Noise;
  /** 16 kHz mono LINEAR16: LEAD_MS of silence, the speech, TRAIL_MS of silence (noise throughout when noisy). */
  pcm: Buffer;
  /** Where the speech ends in `pcm`. */
  speechEndMs: number;
  /** Measured on the mix: speech RMS over the RMS of (mix - speech) on the speech span; NaN when clean. */
  snrDb: number;
}

/** Clean speech of one sentence, from the cache or the synthesizer (deterministic: no random input). */
async function speechPcm(cacheDir: string, voice: Voice, rate: Rate, text: string): Promise<Buffer> {
  const key = createHash('sha256').update(JSON.stringify([voice, rate, text])).digest('hex').slice(0, 16);
  const file = path.join(cacheDir, `${voice.id}-${rate.id}-${key}.raw`);
  if (existsSync(file)) return readFile(file);
  const tmp = `${file}.${process.pid}`;
  const toRaw = ['-t', 'raw', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer'];
  if (voice.engine === 'espeak-ng') {
    await run('espeak-ng', ['-v', voice.voice ?? 'en-us', '-s', String(rate.espeakWpm), '-w', `${tmp}.wav`, text]);
    await run('sox', ['-D', `${tmp}.wav`, ...toRaw, tmp]);
  } else {
    await writeFile(`${tmp}.txt`, text);
    await run('text2wave', ['-eval', '(voice_cmu_us_slt_arctic_hts)', `${tmp}.txt`, '-o', `${tmp}.wav`]);
    await run('sox', ['-D', `${tmp}.wav`, ...toRaw, tmp, ...(rate.festivalTempo !== 1 ? ['tempo', '-s', String(rate.festivalTempo)] : [])]);
    await rm(`${tmp}.txt`, { force: true });
  }
  await rm(`${tmp}.wav`, { force: true });
  await rename(tmp, file);
  return readFile(file);
}

/** Pink noise from sox in repeatable mode (-R: fixed seed), generated once. */
async function noisePcm(cacheDir: string): Promise<Int16Array> {
  const file = path.join(cacheDir, `pinknoise-${NOISE_SECONDS}s.raw`);
  if (!existsSync(file)) {
    await run('sox', ['-R', '-n', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', `${file}.${process.pid}`, 'synth', String(NOISE_SECONDS), 'pinknoise']);
    await rename(`${file}.${process.pid}`, file);
  }
  return int16(await readFile(file));
}

function int16(buf: Buffer): Int16Array {
  const copy = new Int16Array(buf.length / 2);
  Buffer.from(copy.buffer).set(buf.subarray(0, copy.length * 2));
  return copy;
}

export function rms(samples: ArrayLike<number>, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (samples[i] ?? 0) ** 2;
  return to > from ? Math.sqrt(sum / (to - from)) : 0;
}

/**
 * Speech plus noise scaled so that RMS(speech) / RMS(noise) is `snrDb` over the speech span (the
 * synthesizer's output, its own short pauses included); the noise runs through the padding too,
 * as a room's would. Returns the mix and the SNR measured back on it (rounding to 16 bits and any
 * clipping show there).
 */
export function mixAtSnr(clean: Int16Array, speechFrom: number, speechTo: number, noise: Int16Array, noiseOffset: number, snrDb: number): { mix: Int16Array; snrDb: number } {
  const speechRms = rms(clean, speechFrom, speechTo);
  const noiseRms = rms(noise.subarray(noiseOffset, noiseOffset + (speechTo - speechFrom)));
  const gain = speechRms / (noiseRms * 10 ** (snrDb / 20));
  const mix = new Int16Array(clean.length);
  for (let i = 0; i < clean.length; i++) {
    const v = Math.round((clean[i] ?? 0) + gain * (noise[(noiseOffset + i - speechFrom + noise.length) % noise.length] ?? 0));
    mix[i] = Math.max(-32_768, Math.min(32_767, v));
  }
  let noiseSum = 0;
  for (let i = speechFrom; i < speechTo; i++) noiseSum += ((mix[i] ?? 0) - (clean[i] ?? 0)) ** 2;
  const measured = 20 * Math.log10(speechRms / Math.sqrt(noiseSum / (speechTo - speechFrom)));
  return { mix, snrDb: measured };
}

/** Every clip of `sentences` for every voice, rate and noise; synthesizes what the cache lacks. */
export async function corpusClips(cacheDir: string, sentences: readonly CorpusSentence[], only?: { voices?: string[]; rates?: string[]; noises?: Noise[] }): Promise<Clip[]> {
  await mkdir(cacheDir, { recursive: true });
  const noise = await noisePcm(cacheDir);
  const clips: Clip[] = [];
  for (const voice of VOICES.filter((v) => !only?.voices || only.voices.includes(v.id))) {
    for (const rate of RATES.filter((r) => !only?.rates || only.rates.includes(r.id))) {
      for (const [index, sentence] of sentences.entries()) {
        const speech = await speechPcm(cacheDir, voice, rate, sentence.spoken);
        const speechMs = speech.length / BYTES_PER_MS;
        const padded = Buffer.concat([Buffer.alloc(LEAD_MS * BYTES_PER_MS), speech, Buffer.alloc(TRAIL_MS * BYTES_PER_MS)]);
        const speechEndMs = LEAD_MS + speechMs;
        for (const n of NOISES.filter((x) => !only?.noises || only.noises.includes(x))) {
          if (n === 'clean') {
            clips.push({ sentence, voice: voice.id, rate: rate.id, noise: n, pcm: padded, speechEndMs, snrDb: Number.NaN });
            continue;
          }
          const from = LEAD_MS * 16;
          const to = from + speech.length / 2;
          // A fixed, different stretch of the noise for each sentence.
          const offset = (index * 7_919 * 16) % (noise.length - (to - from));
          const { mix, snrDb } = mixAtSnr(int16(padded), from, to, noise, offset, SNR_DB);
          clips.push({ sentence, voice: voice.id, rate: rate.id, noise: n, pcm: Buffer.from(mix.buffer), speechEndMs, snrDb });
        }
      }
    }
  }
  return clips;
}

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { editDistance } from '../../bench/quality/wer.js';

const run = promisify(execFile);

/** Sentences PocketSphinx's English model knows every word of. */
export const SENTENCES = [
  'welcome everyone to the monthly product update',
  'the slides will be available after the meeting',
  'thank you very much for joining us this afternoon',
  'please send your questions in the chat window',
  'our next speaker will talk about the new features',
  'we will take a short break in ten minutes',
];

export interface SpokenSentence {
  text: string;
  /** Where the sentence's audio starts and ends in the PCM. */
  startMs: number;
  endMs: number;
}

export interface Speech {
  /** 16 kHz mono LINEAR16. */
  pcm: Buffer;
  sentences: SpokenSentence[];
}

const BYTES_PER_MS = 32;
const cache = new Map<string, Promise<Buffer>>();

/**
 * `sentences` spoken by Festival's US English HTS voice (cmu_us_slt_arctic_hts, about 11 % word
 * errors with PocketSphinx, against ~30 % for espeak-ng), each followed by `gapMs` of digital
 * silence, as 16 kHz LINEAR16. Deterministic: Festival HTS and `sox -D` add no randomness.
 */
export async function speak(t: { teardown(fn: () => unknown): void }, sentences: readonly string[], { gapMs = 1_000, leadMs = 300 } = {}): Promise<Speech> {
  const parts: Buffer[] = [Buffer.alloc(leadMs * BYTES_PER_MS)];
  const spoken: SpokenSentence[] = [];
  let at = leadMs;
  for (const text of sentences) {
    const pcm = await sentencePcm(t, text);
    const ms = pcm.length / BYTES_PER_MS;
    spoken.push({ text, startMs: at, endMs: at + ms });
    parts.push(pcm, Buffer.alloc(gapMs * BYTES_PER_MS));
    at += ms + gapMs;
  }
  return { pcm: Buffer.concat(parts), sentences: spoken };
}

let dir: Promise<string> | undefined;

function sentencePcm(t: { teardown(fn: () => unknown): void }, text: string): Promise<Buffer> {
  let pcm = cache.get(text);
  if (!pcm) {
    pcm = (async () => {
      dir ??= mkdtemp(path.join(os.tmpdir(), 'pc-festival-')).then((d) => {
        t.teardown(() => rm(d, { recursive: true, force: true }));
        return d;
      });
      const d = await dir;
      const base = path.join(d, String(cache.size));
      await writeFile(`${base}.txt`, text);
      await run('text2wave', ['-eval', '(voice_cmu_us_slt_arctic_hts)', `${base}.txt`, '-o', `${base}.wav`]);
      await run('sox', ['-D', `${base}.wav`, '-t', 'raw', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', `${base}.raw`]);
      return readFile(`${base}.raw`);
    })();
    cache.set(text, pcm);
  }
  return pcm;
}

/** Share of `reference`'s words found, in order, in `hypothesis` (longest common subsequence). */
export function wordRecall(reference: string, hypothesis: string): number {
  const ref = reference.toLowerCase().split(/\s+/).filter(Boolean);
  const hyp = hypothesis.toLowerCase().split(/\s+/).filter(Boolean);
  const lcs: number[] = new Array<number>(hyp.length + 1).fill(0);
  for (const word of ref) {
    let diagonal = 0;
    for (let j = 1; j <= hyp.length; j++) {
      const above = lcs[j] ?? 0;
      lcs[j] = hyp[j - 1] === word ? diagonal + 1 : Math.max(above, lcs[j - 1] ?? 0);
      diagonal = above;
    }
  }
  return ref.length === 0 ? 1 : (lcs[hyp.length] ?? 0) / ref.length;
}

/** Word error rate of `hypothesis` against `reference` (substitutions + deletions + insertions over reference words). */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const ref = reference.toLowerCase().split(/\s+/).filter(Boolean);
  const hyp = hypothesis.toLowerCase().split(/\s+/).filter(Boolean);
  return ref.length === 0 ? 0 : editDistance(ref, hyp) / ref.length;
}

/** `speech` as a WAV file at `sampleRate` (what ffmpeg and browsers read), in a directory removed at teardown. */
export async function speechWavFile(t: { teardown(fn: () => unknown): void }, speech: Speech, sampleRate = 48_000): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'pc-speech-wav-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  const raw = path.join(d, 'speech.raw');
  const wav = path.join(d, 'speech.wav');
  await writeFile(raw, speech.pcm);
  await run('sox', ['-D', '-t', 'raw', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', raw, '-r', String(sampleRate), wav]);
  return wav;
}

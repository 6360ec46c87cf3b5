// Synthetic speech for the speech stand-in: every "word" is a run of one constant, non-zero sample
// value, silence is zeros. The stand-in "recognizes" a run of value N as the word `w{N}`, so a test
// knows exactly which words a stretch of audio holds and where each one starts.

export const SAMPLE_RATE_HZ = 16_000;
export const SAMPLES_PER_MS = SAMPLE_RATE_HZ / 1000;
export const BYTES_PER_MS = SAMPLES_PER_MS * 2;

/** One piece of a script: a word (id 1..32767) lasting `ms`, or a pause. */
export type ScriptPart = { word: number; ms: number } | { pauseMs: number };

export interface ScriptedWord {
  word: string;
  startMs: number;
  endMs: number;
}

/** The name the stand-in gives to a run of sample value `id`. */
export function wordName(id: number): string {
  return `w${id}`;
}

/** LINEAR16 audio for a script, and where each word is in it. */
export function scriptAudio(parts: readonly ScriptPart[]): { pcm: Buffer; words: ScriptedWord[] } {
  const totalMs = parts.reduce((sum, p) => sum + ('word' in p ? p.ms : p.pauseMs), 0);
  const pcm = Buffer.alloc(totalMs * BYTES_PER_MS);
  const words: ScriptedWord[] = [];
  let atMs = 0;
  for (const part of parts) {
    if ('word' in part) {
      if (!Number.isInteger(part.word) || part.word < 1 || part.word > 32_767) throw new RangeError(`word id ${part.word}`);
      for (let i = atMs * SAMPLES_PER_MS; i < (atMs + part.ms) * SAMPLES_PER_MS; i++) pcm.writeInt16LE(part.word, i * 2);
      words.push({ word: wordName(part.word), startMs: atMs, endMs: atMs + part.ms });
      atMs += part.ms;
    } else {
      atMs += part.pauseMs;
    }
  }
  return { pcm, words };
}

/** Splits audio into chunks of `chunkMs` (the last may be shorter), as a live source sends it. */
export function chunksOf(pcm: Buffer, chunkMs: number): Buffer[] {
  const size = chunkMs * BYTES_PER_MS;
  const out: Buffer[] = [];
  for (let at = 0; at < pcm.length; at += size) out.push(pcm.subarray(at, Math.min(at + size, pcm.length)));
  return out;
}

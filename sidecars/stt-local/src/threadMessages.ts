// Messages between a PocketSphinxStream (main thread) and its decoder thread. structuredClone
// carries them, so they are plain data; each side still checks what it receives, because a
// mismatch between the two files would otherwise fail silently.

export interface WordMessage {
  word: string;
  startMs: number;
  endMs: number;
  confidence: number;
}

/** Main thread -> decoder thread. */
export type ToDecoder =
  /**
   * A stream takes this thread: decode from a fresh decoder, send interims when `interim`; the
   * words of `phraseHints` missing from the dictionary are added to it first.
   */
  | { type: 'open'; interim: boolean; phraseHints: string[] }
  /** 16 kHz LINEAR16 samples, in order. */
  | { type: 'audio'; pcm: Int16Array }
  /** No more audio: finish the utterance in progress, send 'ended'. */
  | { type: 'end' }
  /** The stream is gone: drop everything, get a fresh decoder ready. */
  | { type: 'reset' }
  /** Free the decoder and let the thread exit (terminate() during a native call aborts the process). */
  | { type: 'close' };

/** Decoder thread -> main thread. */
export type FromDecoder =
  /** A fresh decoder is loaded; the thread can take a stream. */
  | { type: 'ready' }
  /** One 'audio' message was decoded. */
  | { type: 'consumed'; samples: number }
  /** The hint words added to the dictionary at 'open' (those it lacked and espeak-ng could spell). */
  | { type: 'hinted'; added: string[] }
  | { type: 'interim'; utterance: number; text: string; startMs: number; endMs: number }
  | { type: 'final'; utterance: number; text: string; startMs: number; endMs: number; confidence: number; words: WordMessage[] }
  /** Every final of the stream was sent. */
  | { type: 'ended' }
  | { type: 'error'; message: string };

export function isToDecoder(value: unknown): value is ToDecoder {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'open':
      return typeof value.interim === 'boolean' && Array.isArray(value.phraseHints) && value.phraseHints.every((h) => typeof h === 'string');
    case 'audio':
      return value.pcm instanceof Int16Array;
    case 'end':
    case 'reset':
    case 'close':
      return true;
    default:
      return false;
  }
}

export function isFromDecoder(value: unknown): value is FromDecoder {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'ready':
    case 'ended':
      return true;
    case 'consumed':
      return typeof value.samples === 'number';
    case 'hinted':
      return Array.isArray(value.added) && value.added.every((w) => typeof w === 'string');
    case 'error':
      return typeof value.message === 'string';
    case 'interim':
      return typeof value.utterance === 'number' && typeof value.text === 'string' && typeof value.startMs === 'number' && typeof value.endMs === 'number';
    case 'final':
      return (
        typeof value.utterance === 'number' &&
        typeof value.text === 'string' &&
        typeof value.startMs === 'number' &&
        typeof value.endMs === 'number' &&
        typeof value.confidence === 'number' &&
        Array.isArray(value.words) &&
        value.words.every(isWord)
      );
    default:
      return false;
  }
}

function isWord(value: unknown): value is WordMessage {
  return (
    isRecord(value) &&
    typeof value.word === 'string' &&
    typeof value.startMs === 'number' &&
    typeof value.endMs === 'number' &&
    typeof value.confidence === 'number'
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

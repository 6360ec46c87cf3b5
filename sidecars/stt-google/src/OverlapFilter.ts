import type { RecognitionResult } from '../../sdk/src/index.js';

/**
 * Removes from a new provider stream's results what the previous stream already finalized.
 *
 * When a provider stream is replaced (rotation before Google's 5-minute limit, or a stream the
 * provider ended), the new stream is fed again the audio since the last final we emitted, so no
 * word is lost at the seam; but some of that audio may have been finalized meanwhile by the old
 * stream while it flushed. Everything the old stream finalized ends at or before `watermarkMs`
 * (stream offsets), so:
 * - a result with word timings (Google finals) keeps only the words starting at or after the
 *   watermark; a word the old stream had cut at the seam stays as the old stream finalized it;
 * - a result without word timings (Google interims) that ends before the watermark is dropped, and
 *   otherwise loses the longest prefix of words equal to the tail of what was finalized in the
 *   overlap (text is all an interim offers, and it is replaced by the final anyway).
 * The first final the filter lets through ends the overlap; later results pass untouched.
 */
export class OverlapFilter {
  readonly #watermarkMs: number;
  readonly #overlap: string[];
  #done = false;

  /**
   * @param watermarkMs end of the last final emitted before the new stream's results
   * @param overlapWords words finalized between the start of the replayed audio and the watermark, in order
   */
  constructor(watermarkMs: number, overlapWords: readonly string[]) {
    this.#watermarkMs = watermarkMs;
    this.#overlap = overlapWords.map(normalize);
  }

  get done(): boolean {
    return this.#done;
  }

  apply(result: RecognitionResult): RecognitionResult | undefined {
    if (this.#done) return result;
    const kept = result.words.length > 0 ? this.#byTimings(result) : this.#byText(result);
    if (kept !== undefined && kept.isFinal) this.#done = true;
    return kept;
  }

  #byTimings(result: RecognitionResult): RecognitionResult | undefined {
    const words = result.words.filter((w) => w.startMs >= this.#watermarkMs);
    const first = words[0];
    if (first === undefined) return undefined;
    if (words.length === result.words.length) return result;
    return { ...result, words, text: words.map((w) => w.word).join(' '), startMs: first.startMs };
  }

  #byText(result: RecognitionResult): RecognitionResult | undefined {
    if (result.endMs <= this.#watermarkMs) return undefined;
    const words = result.text.split(/\s+/).filter((w) => w.length > 0);
    const skip = overlapLength(this.#overlap, words.map(normalize));
    if (skip === 0) return result;
    const rest = words.slice(skip);
    if (rest.length === 0) return undefined;
    return { ...result, text: rest.join(' '), startMs: Math.max(result.startMs, this.#watermarkMs) };
  }
}

function normalize(word: string): string {
  return word.toLowerCase().replace(/[^\p{L}\p{N}']/gu, '');
}

/** The largest k such that the last k entries of `finalized` equal the first k of `next`. */
function overlapLength(finalized: readonly string[], next: readonly string[]): number {
  for (let k = Math.min(finalized.length, next.length); k > 0; k--) {
    let same = true;
    for (let i = 0; i < k && same; i++) same = finalized[finalized.length - k + i] === next[i];
    if (same) return k;
  }
  return 0;
}

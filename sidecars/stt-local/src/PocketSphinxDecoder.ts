// PocketSphinx 5prealpha (Debian libpocketsphinx.so.3) through koffi. Runs inside a decoder thread
// only (decoderThread.ts): every call here blocks for as long as the C code runs.
import koffi from 'koffi';

/** A C pointer as koffi hands it back: opaque to us, only passed back into the library. */
type Pointer = unknown;

export interface DecodedWord {
  word: string;
  /** From the first sample given to this decoder. */
  startMs: number;
  endMs: number;
  /** Posterior probability, 0..1. */
  confidence: number;
}

export interface DecoderOptions {
  /** Directory of pocketsphinx-en-us: holds en-us/, en-us.lm.bin, cmudict-en-us.dict. */
  modelDir: string;
}

const FRAME_MS = 10;

interface Bindings {
  ps_args: () => Pointer;
  cmd_ln_parse_r: (inout: Pointer, defn: Pointer, argc: number, argv: string[], strict: number) => Pointer;
  ps_init: (config: Pointer) => Pointer;
  ps_free: (ps: Pointer) => number;
  cmd_ln_free_r: (config: Pointer) => number;
  ps_start_utt: (ps: Pointer) => number;
  ps_end_utt: (ps: Pointer) => number;
  ps_process_raw: (ps: Pointer, data: Int16Array, n: number, noSearch: number, fullUtt: number) => number;
  ps_get_hyp: (ps: Pointer, score: number[]) => string | null;
  ps_get_in_speech: (ps: Pointer) => number;
  ps_get_logmath: (ps: Pointer) => Pointer;
  logmath_exp: (lmath: Pointer, logp: number) => number;
  ps_seg_iter: (ps: Pointer) => Pointer;
  ps_seg_next: (seg: Pointer) => Pointer;
  ps_seg_word: (seg: Pointer) => string | null;
  ps_seg_frames: (seg: Pointer, sf: number[], ef: number[]) => void;
  ps_seg_prob: (seg: Pointer, ascr: number[], lscr: number[], lback: number[]) => number;
  ps_lookup_word: (ps: Pointer, word: string) => string | null;
  ps_add_word: (ps: Pointer, word: string, phones: string, update: number) => number;
}

let bindings: Bindings | undefined;

function load(): Bindings {
  if (bindings) return bindings;
  const ps = koffi.load('libpocketsphinx.so.3');
  const sb = koffi.load('libsphinxbase.so.3');
  bindings = {
    ps_args: ps.func('void *ps_args(void)'),
    cmd_ln_parse_r: sb.func('void *cmd_ln_parse_r(void *inout, void *defn, int argc, const char **argv, int strict)'),
    ps_init: ps.func('void *ps_init(void *config)'),
    ps_free: ps.func('int ps_free(void *ps)'),
    cmd_ln_free_r: sb.func('int cmd_ln_free_r(void *config)'),
    ps_start_utt: ps.func('int ps_start_utt(void *ps)'),
    ps_end_utt: ps.func('int ps_end_utt(void *ps)'),
    ps_process_raw: ps.func('int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)'),
    ps_get_hyp: ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *score)'),
    ps_get_in_speech: ps.func('uint8_t ps_get_in_speech(void *ps)'),
    ps_get_logmath: ps.func('void *ps_get_logmath(void *ps)'),
    logmath_exp: sb.func('double logmath_exp(void *lmath, int logb_p)'),
    ps_seg_iter: ps.func('void *ps_seg_iter(void *ps)'),
    ps_seg_next: ps.func('void *ps_seg_next(void *seg)'),
    ps_seg_word: ps.func('const char *ps_seg_word(void *seg)'),
    ps_seg_frames: ps.func('void ps_seg_frames(void *seg, _Out_ int *sf, _Out_ int *ef)'),
    ps_seg_prob: ps.func('int32_t ps_seg_prob(void *seg, _Out_ int32_t *ascr, _Out_ int32_t *lscr, _Out_ int32_t *lback)'),
    // The returned string is the dictionary's own copy in 5prealpha: koffi copies it, nothing to free.
    ps_lookup_word: ps.func('const char *ps_lookup_word(void *ps, const char *word)'),
    ps_add_word: ps.func('int ps_add_word(void *ps, const char *word, const char *phones, int update)'),
  };
  return bindings;
}

/** Markers and fillers PocketSphinx puts in a segmentation: <s>, </s>, <sil>, [NOISE], ++UM++. */
const NON_WORD = /^(<.*>|\[.*\]|\+\+.*\+\+)$/;

/**
 * One PocketSphinx decoder in continuous mode: feed 16 kHz PCM, ask whether speech is going on,
 * read the partial hypothesis, and end an utterance to get its words. The built-in voice activity
 * detector decides where utterances begin and end. Frame times count from the decoder's creation.
 */
export class PocketSphinxDecoder {
  readonly #ps: Bindings;
  #decoder: Pointer;
  readonly #logmath: Pointer;

  constructor({ modelDir }: DecoderOptions) {
    this.#ps = load();
    const argv = ['-hmm', `${modelDir}/en-us`, '-lm', `${modelDir}/en-us.lm.bin`, '-dict', `${modelDir}/cmudict-en-us.dict`, '-logfn', '/dev/null'];
    const config = this.#ps.cmd_ln_parse_r(null, this.#ps.ps_args(), argv.length, argv, 1);
    if (!config) throw new Error(`pocketsphinx: bad arguments ${argv.join(' ')}`);
    this.#decoder = this.#ps.ps_init(config);
    // ps_init keeps its own reference to the config; drop ours.
    this.#ps.cmd_ln_free_r(config);
    if (!this.#decoder) {
      throw new Error(`pocketsphinx: ps_init failed; is the model in ${modelDir}? (Debian package pocketsphinx-en-us)`);
    }
    this.#logmath = this.#ps.ps_get_logmath(this.#decoder);
    this.#ps.ps_start_utt(this.#decoder);
  }

  /** Decodes whole samples; returns whether the detector hears speech after them. */
  process(pcm: Int16Array): boolean {
    if (pcm.length > 0) this.#ps.ps_process_raw(this.#decoder, pcm, pcm.length, 0, 0);
    return this.#ps.ps_get_in_speech(this.#decoder) !== 0;
  }

  /** Whether the pronunciation dictionary has `word` (lowercase, as cmudict spells it). */
  knows(word: string): boolean {
    return this.#ps.ps_lookup_word(this.#decoder, word) !== null;
  }

  /**
   * Adds words to the dictionary and, as unigrams, to the language model (`ps_add_word`), so the
   * search can produce them. Must run between utterances: the search is rebuilt after the last
   * word. Returns the words added.
   */
  addWords(pronunciations: ReadonlyMap<string, readonly string[]>): string[] {
    const entries = [...pronunciations].filter(([word, phones]) => phones.length > 0 && !this.knows(word));
    const added: string[] = [];
    this.#ps.ps_end_utt(this.#decoder);
    for (const [i, [word, phones]] of entries.entries()) {
      // Rebuilding the search once, after the last word, instead of once per word.
      if (this.#ps.ps_add_word(this.#decoder, word, phones.join(' '), i === entries.length - 1 ? 1 : 0) >= 0) added.push(word);
    }
    this.#ps.ps_start_utt(this.#decoder);
    return added;
  }

  /** The best hypothesis of the utterance so far ('' when none). */
  partial(): string {
    return this.#ps.ps_get_hyp(this.#decoder, [0]) ?? '';
  }

  /** Ends the utterance, returns its words, and starts the next one. */
  endUtterance(): DecodedWord[] {
    this.#ps.ps_end_utt(this.#decoder);
    const words: DecodedWord[] = [];
    for (let seg = this.#ps.ps_seg_iter(this.#decoder); seg; seg = this.#ps.ps_seg_next(seg)) {
      const word = this.#ps.ps_seg_word(seg) ?? '';
      if (word === '' || NON_WORD.test(word)) continue;
      const sf = [0];
      const ef = [0];
      this.#ps.ps_seg_frames(seg, sf, ef);
      const logProb = this.#ps.ps_seg_prob(seg, [0], [0], [0]);
      words.push({
        // Alternative pronunciations are listed as word(2) in the dictionary.
        word: word.replace(/\(\d+\)$/, ''),
        startMs: (sf[0] ?? 0) * FRAME_MS,
        endMs: ((ef[0] ?? 0) + 1) * FRAME_MS,
        confidence: Math.min(1, Math.max(0, this.#ps.logmath_exp(this.#logmath, logProb))),
      });
    }
    this.#ps.ps_start_utt(this.#decoder);
    return words;
  }

  free(): void {
    if (!this.#decoder) return;
    this.#ps.ps_end_utt(this.#decoder);
    this.#ps.ps_free(this.#decoder);
    this.#decoder = null;
  }
}

// Original file: proto/polyglot/v1/translation.proto

import type { Translation as _polyglot_v1_Translation, Translation__Output as _polyglot_v1_Translation__Output } from '../../polyglot/v1/Translation.js';

/**
 * Result of a Translate call.
 */
export interface TranslateResponse {
  /**
   * One entry per (text, target language) pair: exactly
   * len(texts) * len(target_languages) entries. Grouped by target in the
   * order of `target_languages`, and by text index within a target; that
   * is, the translation of texts[i] into target_languages[t] is
   * results[t * len(texts) + i]. Each entry also names its text and target,
   * so clients may use either.
   */
  'results'?: (_polyglot_v1_Translation)[];
}

/**
 * Result of a Translate call.
 */
export interface TranslateResponse__Output {
  /**
   * One entry per (text, target language) pair: exactly
   * len(texts) * len(target_languages) entries. Grouped by target in the
   * order of `target_languages`, and by text index within a target; that
   * is, the translation of texts[i] into target_languages[t] is
   * results[t * len(texts) + i]. Each entry also names its text and target,
   * so clients may use either.
   */
  'results': (_polyglot_v1_Translation__Output)[];
}

// Original file: proto/polyglot/v1/speech.proto

import type { AudioEncoding as _polyglot_v1_AudioEncoding, AudioEncoding__Output as _polyglot_v1_AudioEncoding__Output } from '../../polyglot/v1/AudioEncoding.js';

/**
 * Parameters of one recognition stream, sent once as the first message.
 */
export interface RecognitionConfig {
  /**
   * Caption session the audio belongs to. Opaque to the worker, used in its
   * logs and metrics. Required (INVALID_ARGUMENT when empty).
   */
  'sessionId'?: (string);
  /**
   * Audio track (one speaker) within the session. Opaque to the worker, used
   * in its logs and metrics. Required (INVALID_ARGUMENT when empty).
   */
  'trackId'?: (string);
  /**
   * Organization that owns the session. Workers use it for per-organization
   * quotas and accounting. Required (INVALID_ARGUMENT when empty).
   */
  'orgId'?: (string);
  /**
   * Language spoken in the audio, as a BCP-47 tag: a language with a region
   * ("en-US", "pt-BR") or a bare language ("en"). Matching is
   * case-insensitive. The worker accepts the tag when it equals one of the
   * worker's `languages` (WorkerDescription), or when its language subtag
   * equals a bare entry there ("en-GB" is accepted by a worker listing
   * "en"; "en" is not accepted by a worker listing only "en-US").
   * Required (INVALID_ARGUMENT when empty); a tag the worker does not
   * accept gives NOT_FOUND.
   */
  'language'?: (string);
  /**
   * Sample rate of `audio`, in hertz. Must be 16000 in v1; any other value
   * (including unset) gives INVALID_ARGUMENT.
   */
  'sampleRateHz'?: (number);
  /**
   * Encoding of `audio`. Must be LINEAR16 in v1; any other value (including
   * ENCODING_UNSPECIFIED) gives INVALID_ARGUMENT.
   */
  'encoding'?: (_polyglot_v1_AudioEncoding);
  /**
   * When true, the server sends interim events (is_final = false) while an
   * utterance is in progress. When false, it sends finals only.
   */
  'interimResults'?: (boolean);
  /**
   * Words and phrases likely to occur in the audio (product names, speaker
   * names), given as hints to improve recognition. Optional. Limits: at most
   * 500 entries of at most 100 characters each (INVALID_ARGUMENT beyond).
   * Engines that do not support hints ignore them.
   */
  'phraseHints'?: (string)[];
}

/**
 * Parameters of one recognition stream, sent once as the first message.
 */
export interface RecognitionConfig__Output {
  /**
   * Caption session the audio belongs to. Opaque to the worker, used in its
   * logs and metrics. Required (INVALID_ARGUMENT when empty).
   */
  'sessionId': (string);
  /**
   * Audio track (one speaker) within the session. Opaque to the worker, used
   * in its logs and metrics. Required (INVALID_ARGUMENT when empty).
   */
  'trackId': (string);
  /**
   * Organization that owns the session. Workers use it for per-organization
   * quotas and accounting. Required (INVALID_ARGUMENT when empty).
   */
  'orgId': (string);
  /**
   * Language spoken in the audio, as a BCP-47 tag: a language with a region
   * ("en-US", "pt-BR") or a bare language ("en"). Matching is
   * case-insensitive. The worker accepts the tag when it equals one of the
   * worker's `languages` (WorkerDescription), or when its language subtag
   * equals a bare entry there ("en-GB" is accepted by a worker listing
   * "en"; "en" is not accepted by a worker listing only "en-US").
   * Required (INVALID_ARGUMENT when empty); a tag the worker does not
   * accept gives NOT_FOUND.
   */
  'language': (string);
  /**
   * Sample rate of `audio`, in hertz. Must be 16000 in v1; any other value
   * (including unset) gives INVALID_ARGUMENT.
   */
  'sampleRateHz': (number);
  /**
   * Encoding of `audio`. Must be LINEAR16 in v1; any other value (including
   * ENCODING_UNSPECIFIED) gives INVALID_ARGUMENT.
   */
  'encoding': (_polyglot_v1_AudioEncoding__Output);
  /**
   * When true, the server sends interim events (is_final = false) while an
   * utterance is in progress. When false, it sends finals only.
   */
  'interimResults': (boolean);
  /**
   * Words and phrases likely to occur in the audio (product names, speaker
   * names), given as hints to improve recognition. Optional. Limits: at most
   * 500 entries of at most 100 characters each (INVALID_ARGUMENT beyond).
   * Engines that do not support hints ignore them.
   */
  'phraseHints': (string)[];
}

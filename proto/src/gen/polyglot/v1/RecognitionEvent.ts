// Original file: proto/polyglot/v1/speech.proto

import type { WordTiming as _polyglot_v1_WordTiming, WordTiming__Output as _polyglot_v1_WordTiming__Output } from '../../polyglot/v1/WordTiming.js';

/**
 * A transcript of one utterance (segment) or of its beginning, sent by the
 * server. For each segment the server sends zero or more interims, then
 * exactly one final, unless the call fails or is cancelled first.
 */
export interface RecognitionEvent {
  /**
   * Identifies the utterance. Every interim of an utterance and its final
   * carry the same id; a new utterance gets a new id. Opaque; unique within
   * the stream only (prefix it with a stream identifier if you need it unique
   * across streams). No further event carries an id after its final.
   */
  'segmentId'?: (string);
  /**
   * False for an interim, true for the final. An interim is a best guess
   * that later events of the same segment replace completely (not append
   * to); the final is the settled transcript of the utterance.
   */
  'isFinal'?: (boolean);
  /**
   * Transcript of the utterance so far (interim) or of the whole utterance
   * (final), with the engine's punctuation and casing. May be empty on an
   * interim.
   */
  'text'?: (string);
  /**
   * Engine's confidence in `text`, from 0 (none) to 1 (certain). Only
   * meaningful when `is_final` is true; 0 on interims. An engine that does
   * not estimate confidence sets 0 on finals too.
   */
  'confidence'?: (number | string);
  /**
   * Start of the utterance, in milliseconds from the start of this stream's
   * audio (the first byte of the first `audio` chunk). Tentative on
   * interims.
   */
  'startMs'?: (number);
  /**
   * End of the utterance, in milliseconds from the start of this stream's
   * audio. `end_ms` >= `start_ms`. Tentative on interims.
   */
  'endMs'?: (number);
  /**
   * Per-word timings, in the order the words were spoken. Set on finals
   * when the engine reports word timings; engines may also set them on
   * interims. Empty when the engine does not report them.
   */
  'words'?: (_polyglot_v1_WordTiming)[];
  /**
   * Name of the engine that produced the transcript (for example "google",
   * "pocketsphinx"), the same value as WorkerDescription.engine. Constant
   * for the whole stream and set on every event.
   */
  'engine'?: (string);
}

/**
 * A transcript of one utterance (segment) or of its beginning, sent by the
 * server. For each segment the server sends zero or more interims, then
 * exactly one final, unless the call fails or is cancelled first.
 */
export interface RecognitionEvent__Output {
  /**
   * Identifies the utterance. Every interim of an utterance and its final
   * carry the same id; a new utterance gets a new id. Opaque; unique within
   * the stream only (prefix it with a stream identifier if you need it unique
   * across streams). No further event carries an id after its final.
   */
  'segmentId': (string);
  /**
   * False for an interim, true for the final. An interim is a best guess
   * that later events of the same segment replace completely (not append
   * to); the final is the settled transcript of the utterance.
   */
  'isFinal': (boolean);
  /**
   * Transcript of the utterance so far (interim) or of the whole utterance
   * (final), with the engine's punctuation and casing. May be empty on an
   * interim.
   */
  'text': (string);
  /**
   * Engine's confidence in `text`, from 0 (none) to 1 (certain). Only
   * meaningful when `is_final` is true; 0 on interims. An engine that does
   * not estimate confidence sets 0 on finals too.
   */
  'confidence': (number);
  /**
   * Start of the utterance, in milliseconds from the start of this stream's
   * audio (the first byte of the first `audio` chunk). Tentative on
   * interims.
   */
  'startMs': (number);
  /**
   * End of the utterance, in milliseconds from the start of this stream's
   * audio. `end_ms` >= `start_ms`. Tentative on interims.
   */
  'endMs': (number);
  /**
   * Per-word timings, in the order the words were spoken. Set on finals
   * when the engine reports word timings; engines may also set them on
   * interims. Empty when the engine does not report them.
   */
  'words': (_polyglot_v1_WordTiming__Output)[];
  /**
   * Name of the engine that produced the transcript (for example "google",
   * "pocketsphinx"), the same value as WorkerDescription.engine. Constant
   * for the whole stream and set on every event.
   */
  'engine': (string);
}

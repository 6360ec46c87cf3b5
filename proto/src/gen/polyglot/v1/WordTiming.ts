// Original file: proto/polyglot/v1/speech.proto


/**
 * Timing of one recognized word.
 */
export interface WordTiming {
  /**
   * The word as it appears in the transcript.
   */
  'word'?: (string);
  /**
   * Start of the word, in milliseconds from the start of the stream's audio.
   */
  'startMs'?: (number);
  /**
   * End of the word, in milliseconds from the start of the stream's audio.
   * `end_ms` >= `start_ms`.
   */
  'endMs'?: (number);
  /**
   * Engine's confidence in this word, from 0 to 1; 0 when the engine does
   * not estimate it.
   */
  'confidence'?: (number | string);
}

/**
 * Timing of one recognized word.
 */
export interface WordTiming__Output {
  /**
   * The word as it appears in the transcript.
   */
  'word': (string);
  /**
   * Start of the word, in milliseconds from the start of the stream's audio.
   */
  'startMs': (number);
  /**
   * End of the word, in milliseconds from the start of the stream's audio.
   * `end_ms` >= `start_ms`.
   */
  'endMs': (number);
  /**
   * Engine's confidence in this word, from 0 to 1; 0 when the engine does
   * not estimate it.
   */
  'confidence': (number);
}

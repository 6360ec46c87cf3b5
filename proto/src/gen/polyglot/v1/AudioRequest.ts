// Original file: proto/polyglot/v1/speech.proto

import type { RecognitionConfig as _polyglot_v1_RecognitionConfig, RecognitionConfig__Output as _polyglot_v1_RecognitionConfig__Output } from '../../polyglot/v1/RecognitionConfig.js';

/**
 * One client message on a StreamingRecognize stream: the first carries
 * `config`, every later one carries `audio`.
 */
export interface AudioRequest {
  /**
   * Stream parameters. Must be the first message and must be sent once.
   */
  'config'?: (_polyglot_v1_RecognitionConfig | null);
  /**
   * A chunk of raw audio in the format described by `config`: for
   * LINEAR16, signed 16-bit little-endian PCM samples, 16 000 Hz, mono,
   * no header. 100 ms of audio is 3 200 bytes, the recommended chunk
   * size. Limits: 2 to 25 600 bytes (800 ms), even length (whole
   * samples). Chunks are contiguous: the server treats the stream's audio
   * as the concatenation of every chunk, in order.
   */
  'audio'?: (Buffer | Uint8Array | string);
  /**
   * Exactly one is set. A message with neither is rejected with
   * INVALID_ARGUMENT.
   */
  'request'?: "config"|"audio";
}

/**
 * One client message on a StreamingRecognize stream: the first carries
 * `config`, every later one carries `audio`.
 */
export interface AudioRequest__Output {
  /**
   * Stream parameters. Must be the first message and must be sent once.
   */
  'config'?: (_polyglot_v1_RecognitionConfig__Output | null);
  /**
   * A chunk of raw audio in the format described by `config`: for
   * LINEAR16, signed 16-bit little-endian PCM samples, 16 000 Hz, mono,
   * no header. 100 ms of audio is 3 200 bytes, the recommended chunk
   * size. Limits: 2 to 25 600 bytes (800 ms), even length (whole
   * samples). Chunks are contiguous: the server treats the stream's audio
   * as the concatenation of every chunk, in order.
   */
  'audio'?: (Buffer);
  /**
   * Exactly one is set. A message with neither is rejected with
   * INVALID_ARGUMENT.
   */
  'request'?: "config"|"audio";
}

// Original file: proto/polyglot/v1/speech.proto

/**
 * Audio sample encoding.
 */
export const AudioEncoding = {
  /**
   * Not set. Always rejected with INVALID_ARGUMENT.
   */
  ENCODING_UNSPECIFIED: 'ENCODING_UNSPECIFIED',
  /**
   * Uncompressed signed 16-bit little-endian PCM, mono.
   */
  LINEAR16: 'LINEAR16',
} as const;

/**
 * Audio sample encoding.
 */
export type AudioEncoding =
  /**
   * Not set. Always rejected with INVALID_ARGUMENT.
   */
  | 'ENCODING_UNSPECIFIED'
  | 0
  /**
   * Uncompressed signed 16-bit little-endian PCM, mono.
   */
  | 'LINEAR16'
  | 1

/**
 * Audio sample encoding.
 */
export type AudioEncoding__Output = typeof AudioEncoding[keyof typeof AudioEncoding]

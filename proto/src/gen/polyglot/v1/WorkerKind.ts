// Original file: proto/polyglot/v1/worker.proto

/**
 * Kind of service a worker implements.
 */
export const WorkerKind = {
  /**
   * Not set. Never sent by a conforming worker.
   */
  WORKER_KIND_UNSPECIFIED: 'WORKER_KIND_UNSPECIFIED',
  /**
   * Implements polyglot.v1.SpeechToText.
   */
  SPEECH_TO_TEXT: 'SPEECH_TO_TEXT',
  /**
   * Implements polyglot.v1.Translator.
   */
  TRANSLATION: 'TRANSLATION',
} as const;

/**
 * Kind of service a worker implements.
 */
export type WorkerKind =
  /**
   * Not set. Never sent by a conforming worker.
   */
  | 'WORKER_KIND_UNSPECIFIED'
  | 0
  /**
   * Implements polyglot.v1.SpeechToText.
   */
  | 'SPEECH_TO_TEXT'
  | 1
  /**
   * Implements polyglot.v1.Translator.
   */
  | 'TRANSLATION'
  | 2

/**
 * Kind of service a worker implements.
 */
export type WorkerKind__Output = typeof WorkerKind[keyof typeof WorkerKind]

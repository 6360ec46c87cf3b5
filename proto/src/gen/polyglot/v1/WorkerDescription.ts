// Original file: proto/polyglot/v1/worker.proto

import type { WorkerKind as _polyglot_v1_WorkerKind, WorkerKind__Output as _polyglot_v1_WorkerKind__Output } from '../../polyglot/v1/WorkerKind.js';
import type { LanguagePair as _polyglot_v1_LanguagePair, LanguagePair__Output as _polyglot_v1_LanguagePair__Output } from '../../polyglot/v1/LanguagePair.js';

/**
 * What a worker does and how much load it takes.
 */
export interface WorkerDescription {
  /**
   * Identifier of this worker process, unique within a deployment and
   * stable for the life of the process; the same id the worker announces to
   * the worker registry.
   */
  'id'?: (string);
  /**
   * Which service the worker implements.
   */
  'kind'?: (_polyglot_v1_WorkerKind);
  /**
   * Name of the engine behind the worker (for example "google", "deepl",
   * "pocketsphinx", "apertium"). Lowercase; the same value as
   * RecognitionEvent.engine or Translation.engine.
   */
  'engine'?: (string);
  /**
   * For SPEECH_TO_TEXT workers: the BCP-47 tags the worker recognizes. A
   * bare language ("en") accepts every regional variant of it ("en-US",
   * "en-GB"); a tag with a region accepts only itself. Empty for
   * TRANSLATION workers.
   */
  'languages'?: (string)[];
  /**
   * For TRANSLATION workers: the (source, target) pairs the worker
   * translates, each direction listed separately. Bare languages match
   * regional variants as for `languages`. Empty for SPEECH_TO_TEXT workers.
   */
  'pairs'?: (_polyglot_v1_LanguagePair)[];
  /**
   * Most calls the worker serves at once: StreamingRecognize streams for
   * SPEECH_TO_TEXT, Translate calls in flight for TRANSLATION. Calls beyond
   * it fail with RESOURCE_EXHAUSTED. 0 means the worker sets no limit of its
   * own.
   */
  'maxConcurrentStreams'?: (number);
  /**
   * Version of the worker software (semantic versioning, e.g. "1.4.2"), for
   * operators. The contract version is the proto package (polyglot.v1).
   */
  'version'?: (string);
}

/**
 * What a worker does and how much load it takes.
 */
export interface WorkerDescription__Output {
  /**
   * Identifier of this worker process, unique within a deployment and
   * stable for the life of the process; the same id the worker announces to
   * the worker registry.
   */
  'id': (string);
  /**
   * Which service the worker implements.
   */
  'kind': (_polyglot_v1_WorkerKind__Output);
  /**
   * Name of the engine behind the worker (for example "google", "deepl",
   * "pocketsphinx", "apertium"). Lowercase; the same value as
   * RecognitionEvent.engine or Translation.engine.
   */
  'engine': (string);
  /**
   * For SPEECH_TO_TEXT workers: the BCP-47 tags the worker recognizes. A
   * bare language ("en") accepts every regional variant of it ("en-US",
   * "en-GB"); a tag with a region accepts only itself. Empty for
   * TRANSLATION workers.
   */
  'languages': (string)[];
  /**
   * For TRANSLATION workers: the (source, target) pairs the worker
   * translates, each direction listed separately. Bare languages match
   * regional variants as for `languages`. Empty for SPEECH_TO_TEXT workers.
   */
  'pairs': (_polyglot_v1_LanguagePair__Output)[];
  /**
   * Most calls the worker serves at once: StreamingRecognize streams for
   * SPEECH_TO_TEXT, Translate calls in flight for TRANSLATION. Calls beyond
   * it fail with RESOURCE_EXHAUSTED. 0 means the worker sets no limit of its
   * own.
   */
  'maxConcurrentStreams': (number);
  /**
   * Version of the worker software (semantic versioning, e.g. "1.4.2"), for
   * operators. The contract version is the proto package (polyglot.v1).
   */
  'version': (string);
}

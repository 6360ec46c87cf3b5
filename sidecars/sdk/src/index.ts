// Public entry of the language-worker SDK. Engines and worker mains import only this file.

export { createSpeechWorker, createTranslationWorker } from './createWorker.js';
export type { SpeechWorkerOptions, TranslationWorkerOptions } from './createWorker.js';
export { LanguageWorker, DEFAULT_DRAIN_TIMEOUT_MS, InsecureBindError } from './LanguageWorker.js';
export type { WorkerMethod, WorkerObserverEvents, WorkerOptions, WorkerTlsOptions } from './LanguageWorker.js';
export { parseWorkerEnv, runWorker, WorkerConfigError, workerEnvSchema, workerOptionsFromEnv } from './workerEnv.js';
export type { WorkerEnv } from './workerEnv.js';

export type { RecognitionResult, SpeechEngine, SpeechStream, SpeechStreamConfig, WordTiming } from './SpeechEngine.js';
export type {
  Glossary,
  GlossaryEntry,
  LanguagePair,
  TranslatedText,
  TranslationEngine,
  TranslationPurpose,
  TranslationRequest,
} from './TranslationEngine.js';

// The platform's error classes (core/src/errors.ts): what an engine throws becomes its gRPC status.
export {
  CancelledError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PolyglotError,
  QuotaExceededError,
  TimeoutError,
  UnavailableError,
} from '../../../core/src/errors.js';
export { fromServiceError, statusCodeOf, toServiceError } from './grpcStatus.js';
export { abortable } from './abortable.js';
export type { WorkerStatus } from './grpcStatus.js';

export { AsyncQueue, QueueOverflowError } from './AsyncQueue.js';
export type { AsyncQueueOptions, OverflowPolicy } from './AsyncQueue.js';
export { SafeEmitter, onceEvent } from '../../../core/src/events.js';
export type { EventMap } from '../../../core/src/events.js';

export { WORKER_ANNOUNCE_SUBJECT } from '../../../core/src/subjects.js';
export {
  DEFAULT_ANNOUNCE_INTERVAL_MS,
  decodeWorkerMessage,
  encodeWorkerMessage,
  TTL_INTERVALS,
  WorkerMessageError,
} from '../../../core/src/workers/workerMessage.js';
export type { WorkerAnnouncement, WorkerGoodbye, WorkerKindName, WorkerMessage, WorkerMessageInput } from '../../../core/src/workers/workerMessage.js';

// The contract (proto/), for engines and their tests: language matching as workers apply it, and
// a gRPC client of the worker's services.
export { acceptsLanguage, acceptsPair, loadContract } from '../../../proto/src/index.js';
export type {
  RecognitionEvent__Output,
  TranslateRequest,
  TranslateResponse__Output,
  TranslatorClient,
} from '../../../proto/src/index.js';

export { FakeSpeechEngine } from './testing/FakeSpeechEngine.js';
export type { FakeSpeechEngineOptions } from './testing/FakeSpeechEngine.js';
export { FakeTranslationEngine } from './testing/FakeTranslationEngine.js';
export type { FakeTranslationEngineOptions } from './testing/FakeTranslationEngine.js';

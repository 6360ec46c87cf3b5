// Public entry of the integrator contract (proto/polyglot/v1). Everything outside proto/ imports
// from here; the generated files under gen/ are reached only through these names.

export { loadContract, LOADER_OPTIONS, PROTO_FILES, SERVICE_NAMES } from './loadContract.js';
export type {
  ClientConstructor,
  LoadContractOptions,
  PolyglotContract,
  PolyglotServiceName,
  ServiceBinding,
} from './loadContract.js';
export { findProtoRoot } from './protoRoot.js';
export { ContractLoadError } from './errors.js';
export { HealthService } from './HealthService.js';
export type { HealthServiceOptions, ServingStatus } from './HealthService.js';
export { acceptsLanguage, acceptsPair } from './languageMatch.js';
export type { LanguagePairLike } from './languageMatch.js';
export {
  MAX_AUDIO_CHUNK_BYTES,
  MAX_GLOSSARY_ENTRIES,
  MAX_GLOSSARY_TERM_CHARS,
  MAX_PHRASE_HINT_CHARS,
  MAX_PHRASE_HINTS,
  MAX_TARGET_LANGUAGES,
  MAX_TRANSLATE_TEXT_BYTES,
  MAX_TRANSLATE_TEXTS,
  MIN_STREAM_AUDIO_MS,
  RECOMMENDED_AUDIO_CHUNK_BYTES,
  SAMPLE_RATE_HZ,
} from './limits.js';

// Generated types (npm run gen:proto). A plain name is what you send; `__Output` is what you
// receive, with defaults filled in.
export type { SpeechToTextClient, SpeechToTextDefinition, SpeechToTextHandlers } from './gen/polyglot/v1/SpeechToText.js';
export type { AudioRequest, AudioRequest__Output } from './gen/polyglot/v1/AudioRequest.js';
export type { RecognitionConfig, RecognitionConfig__Output } from './gen/polyglot/v1/RecognitionConfig.js';
export type { RecognitionEvent, RecognitionEvent__Output } from './gen/polyglot/v1/RecognitionEvent.js';
export type { WordTiming, WordTiming__Output } from './gen/polyglot/v1/WordTiming.js';
export { AudioEncoding } from './gen/polyglot/v1/AudioEncoding.js';
export type { AudioEncoding__Output } from './gen/polyglot/v1/AudioEncoding.js';

export type { TranslatorClient, TranslatorDefinition, TranslatorHandlers } from './gen/polyglot/v1/Translator.js';
export type { TranslateRequest, TranslateRequest__Output } from './gen/polyglot/v1/TranslateRequest.js';
export type { TranslateResponse, TranslateResponse__Output } from './gen/polyglot/v1/TranslateResponse.js';
export type { Translation, Translation__Output } from './gen/polyglot/v1/Translation.js';
export type { Glossary, Glossary__Output } from './gen/polyglot/v1/Glossary.js';
export type { GlossaryEntry, GlossaryEntry__Output } from './gen/polyglot/v1/GlossaryEntry.js';
export { TranslationPurpose } from './gen/polyglot/v1/TranslationPurpose.js';
export type { TranslationPurpose__Output } from './gen/polyglot/v1/TranslationPurpose.js';

export type { WorkerClient, WorkerDefinition, WorkerHandlers } from './gen/polyglot/v1/Worker.js';
export type { DescribeRequest, DescribeRequest__Output } from './gen/polyglot/v1/DescribeRequest.js';
export type { WorkerDescription, WorkerDescription__Output } from './gen/polyglot/v1/WorkerDescription.js';
export type { LanguagePair, LanguagePair__Output } from './gen/polyglot/v1/LanguagePair.js';
export { WorkerKind } from './gen/polyglot/v1/WorkerKind.js';
export type { WorkerKind__Output } from './gen/polyglot/v1/WorkerKind.js';

export type { HealthClient, HealthDefinition } from './gen/grpc/health/v1/Health.js';
export type { HealthCheckRequest, HealthCheckRequest__Output } from './gen/grpc/health/v1/HealthCheckRequest.js';
export type { HealthCheckResponse, HealthCheckResponse__Output } from './gen/grpc/health/v1/HealthCheckResponse.js';

// Public entry of sidecars/client, the platform's calling side of the language workers: the worker
// registry, resilient speech streams and the translation client. Code outside sidecars/client
// imports only this file.

export { WorkerRegistry } from './WorkerRegistry.js';
export type {
  PickOptions,
  WorkerInfo,
  WorkerClientTls,
  WorkerRegistryEvents,
  WorkerRegistryObserverEvents,
  WorkerRegistryOptions,
  WorkerRemovedReason,
} from './WorkerRegistry.js';
export type { PickedTranslator, WorkerDirectory } from './WorkerDirectory.js';

export { ResilientSpeechStream } from './ResilientSpeechStream.js';
export type {
  FailoverInfo,
  ResilientSpeechStreamEvents,
  ResilientSpeechStreamObserverEvents,
  ResilientSpeechStreamOptions,
  SpeechResult,
} from './ResilientSpeechStream.js';

export { TranslationClient } from './TranslationClient.js';
export type { ClientTranslateRequest, ClientTranslation, TranslateOutcome, TranslationClientOptions } from './TranslationClient.js';
export type { EngineChains, TargetFailure } from './EngineRouter.js';
export { DEFAULT_BREAKER, DEFAULT_ENGINE_CALL } from './EngineCaller.js';
export type { BreakerOptions, EngineCallOptions } from './EngineCaller.js';
export { DEFAULT_CACHE_TTLS, TranslationCache } from './TranslationCache.js';
export type { CacheKeyParts, CacheTtls } from './TranslationCache.js';
export { parseTranslationClientEnv, translationClientEnvSchema } from './translationEnv.js';
export type { TranslationClientSettings } from './translationEnv.js';
export type { Clock } from './Clock.js';

// Public entry of the core's side of the language workers: the registry and resilient streams.

export { WorkerRegistry } from './WorkerRegistry.js';
export type {
  PickOptions,
  WorkerInfo,
  WorkerRegistryEvents,
  WorkerRegistryObserverEvents,
  WorkerRegistryOptions,
  WorkerRemovedReason,
} from './WorkerRegistry.js';
export { ResilientSpeechStream } from './ResilientSpeechStream.js';
export type {
  FailoverInfo,
  ResilientSpeechStreamEvents,
  ResilientSpeechStreamObserverEvents,
  ResilientSpeechStreamOptions,
  SpeechResult,
} from './ResilientSpeechStream.js';

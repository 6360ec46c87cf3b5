import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';

import type { PolyglotServiceName } from '../../../proto/src/index.js';
import type { WorkerKindName } from '../../../core/src/workers/workerMessage.js';
import type { CallGate } from './CallGate.js';
import type { SafeEmitter } from '../../../core/src/events.js';
import type { WorkerObserverEvents } from './LanguageWorker.js';
import type { LanguagePair } from './TranslationEngine.js';

/** What LanguageWorker gives the service it hosts. */
export interface WorkerServiceContext {
  gate: CallGate;
  log: Logger;
  observer: SafeEmitter<WorkerObserverEvents>;
}

/**
 * The kind-specific half of a worker (SpeechService, TranslationService): its gRPC service and
 * engine. LanguageWorker owns the rest (server, Describe, health, registry, metrics, shutdown).
 */
export interface WorkerService {
  readonly kind: WorkerKindName;
  readonly serviceName: PolyglotServiceName;
  readonly engineName: string;
  readonly languages: readonly string[];
  readonly pairs: readonly LanguagePair[];
  /** The engine's own limit; a worker option may lower it. */
  readonly maxStreams: number;
  addTo(server: grpc.Server, context: WorkerServiceContext): void;
  /** Shutdown began: calls in flight finish what they can (speech streams flush their finals). */
  windDown(): void;
  /** The drain bound passed: end every call now with `reason`. */
  abortAll(reason: Error): void;
  closeEngine(): Promise<void>;
}

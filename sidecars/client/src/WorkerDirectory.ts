/** The worker a directory picked: where to call it, and its registry id when it has one. */
import type * as grpc from '@grpc/grpc-js';

export interface PickedTranslator {
  address: string;
  id?: string;
  /** Set for a TLS worker: verifies its certificate (WorkerInfo.credentials). */
  tls?: grpc.ChannelCredentials;
}

/**
 * What the translation client needs from the worker registry: for one language pair and one
 * engine, a healthy worker to call, or undefined when none is known right now (the client then
 * falls back to the next engine, reason `no_worker`). Synchronous because it runs on every
 * translation: the registry answers from the state it keeps from announcements. Spreading load
 * across several workers of the same engine is the registry's choice.
 *
 * WorkerRegistry implements it as `pickTranslationWorker(source, target, { engine })` and
 * `reportFailure(id)`.
 */
export interface WorkerDirectory {
  pickTranslator(pair: { source: string; target: string }, engine: string): PickedTranslator | undefined;
  /** Engines whose workers announce this pair right now (tried after the configured chain). */
  enginesFor?(pair: { source: string; target: string }): string[];
  /** The worker answered UNAVAILABLE or did not answer in time: pick others until it announces again. */
  reportFailure?(workerId: string): void;
}

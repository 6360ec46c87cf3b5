// Real translation workers (the SDK's createTranslationWorker over gRPC on loopback) serving the
// SDK's deterministic FakeTranslationEngine, for the tests of the translation client's parts.
import { Registry } from 'prom-client';
import { createTranslationWorker, FakeTranslationEngine, type LanguagePair } from '../../sdk/src/index.js';
import { EngineCaller, type EngineCallerOptions } from '../src/EngineCaller.js';
import { TranslationMetrics } from '../src/TranslationMetrics.js';
import type { PickedTranslator, WorkerDirectory } from '../src/WorkerDirectory.js';
import { quiet, type Test } from './_harness.js';
import { ManualClock } from './ManualClock.js';

export const TIMEOUT_MS = 2_000;

export interface FakeWorker {
  engine: FakeTranslationEngine;
  picked: PickedTranslator;
}

export async function fakeWorker(t: Test, name: string, pairs?: LanguagePair[]): Promise<FakeWorker> {
  const engine = new FakeTranslationEngine({ name, pairs });
  const worker = await createTranslationWorker({ engine, metricsPort: null, drainTimeoutMs: 200, log: quiet });
  t.teardown(() => worker.shutdown());
  return { engine, picked: { address: worker.address, id: `${name}-worker` } };
}

/** An EngineCaller on a manual clock, with its metrics registry and the worker failures it reported. */
export function callerFor(t: Test, options: Partial<EngineCallerOptions> = {}) {
  const clock = new ManualClock();
  const registry = new Registry();
  const metrics = new TranslationMetrics(registry);
  const failedWorkers: string[] = [];
  const caller = new EngineCaller({
    call: { timeoutMs: TIMEOUT_MS, maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1_000 },
    breaker: { failureThreshold: 3, cooldownMs: 10_000 },
    metrics,
    clock,
    random: () => 0.5,
    onWorkerFailure: (id) => failedWorkers.push(id),
    log: quiet,
    ...options,
  });
  t.teardown(() => caller.close());
  return { caller, clock, registry, metrics, failedWorkers };
}

/** Engine name -> worker, plus the engines announced for every pair beyond the configured chains. */
export class FakeDirectory implements WorkerDirectory {
  readonly workers = new Map<string, PickedTranslator>();
  announced: string[] = [];

  pickTranslator(_pair: { source: string; target: string }, engine: string): PickedTranslator | undefined {
    return this.workers.get(engine);
  }

  enginesFor(): string[] {
    return this.announced;
  }
}

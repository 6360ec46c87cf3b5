// Real pieces for the translation client's tests: the real Google and DeepL client libraries in
// our engines, served by real gRPC workers (the SDK's createTranslationWorker), talking to the
// stand-ins on 127.0.0.1; real Redis from useInfra(). Nothing is mocked.
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DeepLStandIn } from '../../../test/standins/DeepLStandIn.js';
import { GoogleTranslateStandIn } from '../../../test/standins/GoogleTranslateStandIn.js';
import { useInfra } from '../../../core/test/support/infra.js';
import { DeepLEngine } from '../../mt-deepl/src/DeepLEngine.js';
import { GoogleTranslateEngine } from '../../mt-google/src/GoogleTranslateEngine.js';
import { createTranslationWorker, type LanguageWorker } from '../../sdk/src/index.js';
import type { WorkerDirectory } from '../src/WorkerDirectory.js';

export interface Test {
  teardown(fn: () => unknown): void;
}

export const quiet = pino({ level: 'silent' });
const LANGUAGES = ['en', 'de', 'fr', 'es'];

export interface Engines {
  google: { standIn: GoogleTranslateStandIn; engine: GoogleTranslateEngine; worker: LanguageWorker; calls: () => number };
  deepl: { standIn: DeepLStandIn; worker: LanguageWorker; calls: () => number };
}

/** Translate calls a worker received, counted on its observer. */
function countCalls(worker: LanguageWorker): () => number {
  let calls = 0;
  worker.observer.on('callStarted', () => calls++);
  return () => calls;
}

export async function startEngines(t: Test): Promise<Engines> {
  const googleStandIn = await GoogleTranslateStandIn.start();
  const deeplStandIn = await DeepLStandIn.start();
  const googleEngine = new GoogleTranslateEngine({
    projectId: 'test-project',
    languages: LANGUAGES,
    clientOptions: { apiEndpoint: '127.0.0.1', port: googleStandIn.port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' },
    log: quiet,
  });
  const deeplEngine = new DeepLEngine({ authKey: 'test-key:fx', serverUrl: deeplStandIn.url, languages: LANGUAGES, log: quiet });
  const workerOptions = { metricsPort: null, drainTimeoutMs: 200, log: quiet };
  const googleWorker = await createTranslationWorker({ engine: googleEngine, ...workerOptions });
  const deeplWorker = await createTranslationWorker({ engine: deeplEngine, ...workerOptions });
  t.teardown(async () => {
    await Promise.all([googleWorker.shutdown(), deeplWorker.shutdown()]);
    googleStandIn.close();
    await deeplStandIn.close();
  });
  return {
    google: { standIn: googleStandIn, engine: googleEngine, worker: googleWorker, calls: countCalls(googleWorker) },
    deepl: { standIn: deeplStandIn, worker: deeplWorker, calls: countCalls(deeplWorker) },
  };
}

/** What 4a's WorkerRegistry provides, reduced to a map the test edits: engine -> worker address. */
export class StaticDirectory implements WorkerDirectory {
  readonly addresses = new Map<string, string>();
  pickTranslator(_pair: { source: string; target: string }, engine: string): { address: string } | undefined {
    const address = this.addresses.get(engine);
    return address === undefined ? undefined : { address };
  }
}

export async function redisFor(t: Test): Promise<Redis> {
  const { PC_REDIS_URL } = await useInfra();
  const redis = new Redis(PC_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  t.teardown(() => redis.quit());
  return redis;
}

export function newRegistry(): Registry {
  return new Registry();
}

/** Current value of a labelled counter in `registry` (0 when never incremented). */
export async function counterValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want));
  return match?.value ?? 0;
}

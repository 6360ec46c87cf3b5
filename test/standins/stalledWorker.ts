// A language worker process around StalledTranslationEngine, started the way an operator starts
// any worker (PC_NATS_URL, PC_GRPC_PORT, ...): it announces itself for en>es and then hangs every call.
import { createTranslationWorker, parseWorkerEnv, runWorker, workerEnvSchema } from '../../sidecars/sdk/src/index.js';
import { StalledTranslationEngine } from './StalledTranslationEngine.js';

const env = parseWorkerEnv(workerEnvSchema, process.env);
await runWorker(env, (options) => createTranslationWorker({ ...options, engine: new StalledTranslationEngine() }));

// A translation worker for English -> Pig Latin, in full. See docs/integrators.md.
import { createTranslationWorker, parseWorkerEnv, runWorker, workerEnvSchema } from '../../../sdk/src/index.js';
import { PigLatinEngine } from './PigLatinEngine.js';

const env = parseWorkerEnv(workerEnvSchema, process.env);
await runWorker(env, (options) => createTranslationWorker({ ...options, engine: new PigLatinEngine() }));

// The mt-deepl worker process: DeepL behind polyglot.v1.Translator.
import { createTranslationWorker, parseWorkerEnv, runWorker } from '../../sdk/src/index.js';
import { deeplEngineOptions, deeplEnvSchema } from './config.js';
import { DeepLEngine } from './DeepLEngine.js';

const env = parseWorkerEnv(deeplEnvSchema, process.env);
await runWorker(env, (options) =>
  createTranslationWorker({ engine: new DeepLEngine({ ...deeplEngineOptions(env), log: options.log }), ...options }),
);

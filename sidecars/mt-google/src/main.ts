// The mt-google worker process: Google Cloud Translation v3 behind polyglot.v1.Translator.
import { createTranslationWorker, parseWorkerEnv, runWorker } from '../../sdk/src/index.js';
import { googleTranslateEngineOptions, googleTranslateEnvSchema } from './config.js';
import { GoogleTranslateEngine } from './GoogleTranslateEngine.js';

const env = parseWorkerEnv(googleTranslateEnvSchema, process.env);
await runWorker(env, (options) =>
  createTranslationWorker({ engine: new GoogleTranslateEngine({ ...googleTranslateEngineOptions(env), log: options.log }), ...options }),
);

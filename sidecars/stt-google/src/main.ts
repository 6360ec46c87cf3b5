// The stt-google worker process: Google Cloud Speech-to-Text v1 behind polyglot.v1.SpeechToText.
import { createSpeechWorker, parseWorkerEnv, runWorker } from '../../sdk/src/index.js';
import { googleSpeechEngineOptions, googleSpeechEnvSchema } from './config.js';
import { GoogleSpeechEngine } from './GoogleSpeechEngine.js';

const env = parseWorkerEnv(googleSpeechEnvSchema, process.env);
await runWorker(env, (options) =>
  createSpeechWorker({ engine: new GoogleSpeechEngine({ ...googleSpeechEngineOptions(env), log: options.log }), ...options }),
);

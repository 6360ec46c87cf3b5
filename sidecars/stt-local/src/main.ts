// stt-local: English speech-to-text with PocketSphinx, as a language worker.
import { z } from 'zod';

import { createSpeechWorker, parseWorkerEnv, runWorker, workerEnvSchema } from '../../sdk/src/index.js';
import { DEFAULT_MODEL_DIR, PocketSphinxEngine } from './PocketSphinxEngine.js';

const env = parseWorkerEnv(
  workerEnvSchema.extend({
    PC_STT_MODEL_DIR: z.string().min(1).default(DEFAULT_MODEL_DIR),
    PC_STT_MAX_STREAMS: z.coerce.number().int().min(1).max(64).default(4),
    PC_STT_WARM_DECODERS: z.coerce.number().int().min(0).max(64).default(1),
  }),
  process.env,
);

await runWorker(env, async (options) =>
  createSpeechWorker({
    ...options,
    engine: await PocketSphinxEngine.start({
      modelDir: env.PC_STT_MODEL_DIR,
      maxStreams: env.PC_STT_MAX_STREAMS,
      warmDecoders: Math.min(env.PC_STT_WARM_DECODERS, env.PC_STT_MAX_STREAMS),
      log: options.log,
    }),
  }),
);

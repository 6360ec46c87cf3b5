// mt-local: offline machine translation with Apertium, as a language worker.
import { z } from 'zod';

import { createTranslationWorker, parseWorkerEnv, runWorker, workerEnvSchema } from '../../sdk/src/index.js';
import { ApertiumEngine, DEFAULT_MODES, DEFAULT_MODES_DIR } from './ApertiumEngine.js';

const env = parseWorkerEnv(
  workerEnvSchema.extend({
    PC_MT_MODES: z
      .string()
      .regex(/^[a-z]{2,3}-[a-z]{2,3}(,[a-z]{2,3}-[a-z]{2,3})*$/, 'comma-separated Apertium modes, e.g. eng-spa,spa-eng')
      .default(DEFAULT_MODES.join(',')),
    PC_APERTIUM_MODES_DIR: z.string().min(1).default(DEFAULT_MODES_DIR),
  }),
  process.env,
);

await runWorker(env, async (options) =>
  createTranslationWorker({
    ...options,
    engine: await ApertiumEngine.start({ modes: env.PC_MT_MODES.split(','), modesDir: env.PC_APERTIUM_MODES_DIR, log: options.log }),
  }),
);

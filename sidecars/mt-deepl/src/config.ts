import { z } from 'zod';
import { workerEnvSchema } from '../../sdk/src/index.js';
import type { DeepLEngineOptions } from './DeepLEngine.js';

const languageList = z
  .string()
  .transform((s) => s.split(',').map((tag) => tag.trim()).filter((tag) => tag.length > 0))
  .pipe(z.array(z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'BCP-47 tags')).min(2, 'at least two languages'));

/** The mt-deepl worker's variables: the SDK's shared ones plus DeepL's (docs/configuration.md). */
export const deeplEnvSchema = workerEnvSchema.extend({
  PC_DEEPL_AUTH_KEY: z.string().min(1, 'required'),
  PC_DEEPL_SERVER_URL: z.string().url().optional(),
  PC_MT_DEEPL_LANGUAGES: languageList.default('en,de,fr,es,it,pt,nl,pl,ja,zh'),
  PC_DEEPL_ENGLISH_TARGET: z.enum(['en-US', 'en-GB']).default('en-US'),
  PC_DEEPL_PORTUGUESE_TARGET: z.enum(['pt-BR', 'pt-PT']).default('pt-BR'),
  PC_DEEPL_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  PC_DEEPL_GLOSSARY_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('pc'),
  PC_MT_DEEPL_MAX_CALLS: z.coerce.number().int().min(0).default(32),
});

export type DeepLEnv = z.infer<typeof deeplEnvSchema>;

export function deeplEngineOptions(env: DeepLEnv): Omit<DeepLEngineOptions, 'log'> {
  return {
    authKey: env.PC_DEEPL_AUTH_KEY,
    ...(env.PC_DEEPL_SERVER_URL ? { serverUrl: env.PC_DEEPL_SERVER_URL } : {}),
    languages: env.PC_MT_DEEPL_LANGUAGES,
    regional: { en: env.PC_DEEPL_ENGLISH_TARGET, pt: env.PC_DEEPL_PORTUGUESE_TARGET },
    requestTimeoutMs: env.PC_DEEPL_TIMEOUT_MS,
    glossaryPrefix: env.PC_DEEPL_GLOSSARY_PREFIX,
    maxStreams: env.PC_MT_DEEPL_MAX_CALLS,
  };
}

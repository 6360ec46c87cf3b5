import { z } from 'zod';
import type { BreakerOptions, EngineCallOptions } from './EngineCaller.js';
import type { EngineChains } from './EngineRouter.js';
import type { CacheTtls } from './TranslationCache.js';

const engineList = z
  .string()
  .transform((s) => s.split(',').map((e) => e.trim().toLowerCase()).filter((e) => e.length > 0))
  .pipe(z.array(z.string().regex(/^[a-z0-9._-]+$/, 'engine names')).min(1, 'at least one engine'));

/** `en>ja=deepl,google;de>fr=deepl` */
const pairChains = z.string().transform((raw, ctx) => {
  const out: Record<string, string[]> = {};
  for (const part of raw.split(';').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const match = /^([A-Za-z0-9-]+)>([A-Za-z0-9-]+)=([a-z0-9._,-]+)$/.exec(part);
    if (!match || !match[1] || !match[2] || !match[3]) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${part}" is not source>target=engine,engine` });
      return z.NEVER;
    }
    out[`${match[1].toLowerCase()}>${match[2].toLowerCase()}`] = match[3].split(',').filter((e) => e.length > 0);
  }
  return out;
});

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** The translation client's variables, for the main of every process that translates (sfu, signaling). */
export const translationClientEnvSchema = z.object({
  PC_TRANSLATION_ENGINES: engineList.default('google,deepl,apertium'),
  PC_TRANSLATION_ENGINES_BY_PAIR: pairChains.default(''),
  PC_TRANSLATION_TIMEOUT_MS: int(50, 60_000, 2_000),
  PC_TRANSLATION_MAX_RETRIES: int(0, 10, 2),
  PC_TRANSLATION_BACKOFF_BASE_MS: int(1, 60_000, 100),
  PC_TRANSLATION_BACKOFF_MAX_MS: int(1, 60_000, 1_000),
  PC_TRANSLATION_BREAKER_FAILURES: int(1, 1_000, 5),
  PC_TRANSLATION_BREAKER_COOLDOWN_MS: int(0, 3_600_000, 30_000),
  PC_TRANSLATION_CACHE_TTL_LIVE_S: int(1, 30 * 86_400, 3_600),
  PC_TRANSLATION_CACHE_TTL_CHAT_S: int(1, 30 * 86_400, 86_400),
  PC_TRANSLATION_CACHE_TTL_DOCUMENT_S: int(1, 30 * 86_400, 86_400),
  PC_GLOSSARY_VERSION_TTL_MS: int(0, 600_000, 5_000),
});

export interface TranslationClientSettings {
  chains: EngineChains;
  call: EngineCallOptions;
  breaker: BreakerOptions;
  cacheTtlSeconds: CacheTtls;
  /** For GlossaryVersions.ttlMs. */
  glossaryVersionTtlMs: number;
}

/**
 * Parses the translation client's variables (docs/configuration.md, "Cloud engines and translation
 * client"); for a process main, which then adds the directory, Redis, registry and logger.
 * Throws the ZodError naming every bad variable.
 */
export function parseTranslationClientEnv(env: NodeJS.ProcessEnv): TranslationClientSettings {
  const e = translationClientEnvSchema.parse(env);
  return {
    chains: { default: e.PC_TRANSLATION_ENGINES, byPair: e.PC_TRANSLATION_ENGINES_BY_PAIR },
    call: {
      timeoutMs: e.PC_TRANSLATION_TIMEOUT_MS,
      maxRetries: e.PC_TRANSLATION_MAX_RETRIES,
      baseDelayMs: e.PC_TRANSLATION_BACKOFF_BASE_MS,
      maxDelayMs: e.PC_TRANSLATION_BACKOFF_MAX_MS,
    },
    breaker: { failureThreshold: e.PC_TRANSLATION_BREAKER_FAILURES, cooldownMs: e.PC_TRANSLATION_BREAKER_COOLDOWN_MS },
    cacheTtlSeconds: { live: e.PC_TRANSLATION_CACHE_TTL_LIVE_S, chat: e.PC_TRANSLATION_CACHE_TTL_CHAT_S, document: e.PC_TRANSLATION_CACHE_TTL_DOCUMENT_S },
    glossaryVersionTtlMs: e.PC_GLOSSARY_VERSION_TTL_MS,
  };
}

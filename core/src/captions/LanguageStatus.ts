import { z } from 'zod';
import { languageTagSchema } from '../languages/languageTag.js';
import { subjectTokenSchema } from '../subjects.js';

/**
 * Why a caption language gets no translation:
 * - `no_engine`: no engine could be tried (no worker announces the pair, or every engine's breaker is open);
 * - `engine_failed`: every engine tried failed for it;
 * - `language_limit`: the session already has its maximum of languages (PC_MAX_LANGUAGES_PER_SESSION);
 * - `invalid_language`: the tag is not a language (only a writer that skipped canonicalization).
 */
export const UNTRANSLATABLE_REASONS = ['no_engine', 'engine_failed', 'language_limit', 'invalid_language'] as const;
export type UntranslatableReason = (typeof UNTRANSLATABLE_REASONS)[number];

/**
 * What the caption pipeline says about one language of a session on `languageStatusSubject`:
 * `untranslatable` each time a final could not be translated into it (so viewers who arrive later
 * learn it at the next final), `translating` once it is translated again.
 */
export const languageStatusSchema = z.object({
  v: z.literal(1),
  session: subjectTokenSchema,
  lang: languageTagSchema,
  state: z.enum(['translating', 'untranslatable']),
  reason: z.enum(UNTRANSLATABLE_REASONS).optional(),
  at: z.number().int().nonnegative(),
});
export type LanguageStatus = z.output<typeof languageStatusSchema>;

export function encodeLanguageStatus(status: LanguageStatus): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(status));
}

/** Undefined for anything malformed (the subject is open to every pipeline; a bad message is skipped). */
export function decodeLanguageStatus(data: Uint8Array): LanguageStatus | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  const parsed = languageStatusSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

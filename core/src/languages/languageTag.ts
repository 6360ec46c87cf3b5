/**
 * Language tags as the platform stores and compares them: BCP 47 in its canonical case and form
 * (`ES` -> `es`, `es-mx` -> `es-MX`, `zh-hant-tw` -> `zh-Hant-TW`), at most MAX_LANGUAGE_TAG_LENGTH
 * characters, and a valid subject token (they become NATS subjects and KV keys). Every edge where a
 * tag enters (a viewer's choice, a REST field, the CLI, the demand bucket, worker announcements, a
 * translation request) canonicalizes it here once; past the edge, tags are compared with `===`.
 *
 * Browser-safe: the signaling protocol decoders (and so the web pages) use it.
 */
import { z } from 'zod';
import { InvalidArgumentError } from '../errors.js';
import { isSubjectToken } from '../subjects.js';

/** RFC 5646 section 4.4.1's recommended buffer: enough for every tag in practical use. */
export const MAX_LANGUAGE_TAG_LENGTH = 35;

/** sql/migrations/0001_initial.ts, domain language_tag. */
const STORABLE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/** `value` in canonical form, or an InvalidArgumentError that says why it is not a usable tag. */
export function canonicalLanguageTag(value: string): string {
  if (value.length === 0) throw new InvalidArgumentError('language tag is empty');
  if (value.length > MAX_LANGUAGE_TAG_LENGTH) {
    throw new InvalidArgumentError(`language tag ${shown(value)} is longer than ${MAX_LANGUAGE_TAG_LENGTH} characters`);
  }
  let canonical: string | undefined;
  try {
    [canonical] = Intl.getCanonicalLocales(value);
  } catch {
    canonical = undefined;
  }
  if (canonical === undefined) throw new InvalidArgumentError(`${shown(value)} is not a BCP 47 language tag (such as en, es-MX or zh-Hant-TW)`);
  // Alias replacement can lengthen a tag, and the result must still be one subject token and fit
  // the database's language_tag domain (which has no 4-8 letter primary languages).
  if (canonical.length > MAX_LANGUAGE_TAG_LENGTH || !isSubjectToken(canonical) || !STORABLE.test(canonical)) {
    throw new InvalidArgumentError(`language tag ${shown(value)} cannot be used (canonical form ${shown(canonical)})`);
  }
  return canonical;
}

/** The canonical form, or undefined: for readers that skip a bad entry instead of failing. */
export function tryCanonicalLanguageTag(value: string): string | undefined {
  try {
    return canonicalLanguageTag(value);
  } catch {
    return undefined;
  }
}

/** Canonical tags in first-seen order, each once (`ES` and `es` are one language); throws on a bad tag. */
export function canonicalLanguageSet(values: Iterable<string>): string[] {
  return [...new Set(Array.from(values, canonicalLanguageTag))];
}

/** The zod form for decoders of hostile payloads: validates and yields the canonical tag. */
export const languageTagSchema = z
  .string()
  .max(MAX_LANGUAGE_TAG_LENGTH, `must be a BCP 47 language tag of at most ${MAX_LANGUAGE_TAG_LENGTH} characters`)
  .transform((value, ctx) => {
    const canonical = tryCanonicalLanguageTag(value);
    if (canonical === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a BCP 47 language tag such as en, es-MX or zh-Hant-TW' });
      return z.NEVER;
    }
    return canonical;
  });

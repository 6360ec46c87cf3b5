import t from 'tap';
import { InvalidArgumentError, PolyglotError } from '../src/errors.js';
import { canonicalLanguageSet, canonicalLanguageTag, languageTagSchema, MAX_LANGUAGE_TAG_LENGTH, tryCanonicalLanguageTag } from '../src/languages/languageTag.js';

t.test('tags come out in BCP 47 canonical case and form', async (t) => {
  const table: [string, string][] = [
    ['es', 'es'],
    ['ES', 'es'],
    ['Es', 'es'],
    ['es-mx', 'es-MX'],
    ['ES-MX', 'es-MX'],
    ['zh-hant-tw', 'zh-Hant-TW'],
    ['ZH-HANS', 'zh-Hans'],
    ['pt-br', 'pt-BR'],
    ['es-419', 'es-419'],
    ['sr-latn-rs', 'sr-Latn-RS'],
    ['iw', 'he'], // a deprecated alias becomes its replacement, so both name one stream
    ['en-US-u-ca-gregory', 'en-US-u-ca-gregory'],
  ];
  for (const [input, expected] of table) t.equal(canonicalLanguageTag(input), expected, input);
});

t.test('anything else is an InvalidArgumentError with a clear message', async (t) => {
  const table: [string, RegExp][] = [
    ['', /empty/],
    ['es-1', /not a BCP 47 language tag/],
    ['es_MX', /not a BCP 47 language tag/],
    ['es.cap', /not a BCP 47 language tag/],
    ['es *', /not a BCP 47 language tag/],
    ['>', /not a BCP 47 language tag/],
    ['a', /not a BCP 47 language tag/],
    ['x-private', /not a BCP 47 language tag/],
    ['en-GB-oed', /not a BCP 47 language tag/],
    ['abcde', /cannot be used/], // a valid registered-language form the database domain refuses
    [`es-${'abcdefgh-'.repeat(4)}x`, /longer than 35 characters/],
    ['e'.repeat(10_000), /longer than 35 characters/],
  ];
  for (const [input, message] of table) {
    let caught: unknown;
    try {
      canonicalLanguageTag(input);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof InvalidArgumentError, `${input.slice(0, 20)} is refused`);
    t.ok(PolyglotError.is(caught) && caught.code === 'invalid_argument');
    t.match(caught instanceof Error ? caught.message : '', message, input.slice(0, 20));
    t.ok(caught instanceof Error && caught.message.length < 200, 'the message quotes a bounded excerpt');
    t.equal(tryCanonicalLanguageTag(input), undefined);
  }
});

t.test('the bound is 35 characters, checked on the input', async (t) => {
  t.equal(MAX_LANGUAGE_TAG_LENGTH, 35);
  const longest = 'DE-de-1901-ABCDEFGH-bcdefghi-123456';
  t.equal(longest.length, 35);
  t.equal(canonicalLanguageTag(longest), 'de-DE-123456-1901-abcdefgh-bcdefghi', 'variants sorted, case canonical');
  t.throws(() => canonicalLanguageTag(`${longest}c`), InvalidArgumentError);
});

t.test('a set of tags is deduplicated case-insensitively, in first-seen order', async (t) => {
  t.same(canonicalLanguageSet(['ES', 'de', 'es', 'Es', 'es-mx', 'ES-MX', 'DE']), ['es', 'de', 'es-MX']);
  t.throws(() => canonicalLanguageSet(['es', 'es-1']), InvalidArgumentError);
});

t.test('the zod schema validates and canonicalizes', async (t) => {
  t.same(languageTagSchema.safeParse('ZH-hant-TW'), { success: true, data: 'zh-Hant-TW' });
  t.notOk(languageTagSchema.safeParse('es-65').success);
  t.notOk(languageTagSchema.safeParse('x'.repeat(36)).success);
  t.notOk(languageTagSchema.safeParse(42).success);
});

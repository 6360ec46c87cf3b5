// The matching rule of RecognitionConfig.language and TranslateRequest, in one place so that
// workers and the worker registry cannot disagree on which worker takes which language.

/** A translation direction, as in WorkerDescription.pairs. */
export interface LanguagePairLike {
  readonly source: string;
  readonly target: string;
}

/**
 * Whether a worker that lists `offered` accepts the BCP-47 tag `requested`: equal tags
 * (case-insensitive), or a bare offered language equal to the requested tag's language subtag
 * ("en" accepts "en-GB"; "en-US" does not accept "en").
 */
export function acceptsLanguage(offered: readonly string[], requested: string): boolean {
  return offered.some((tag) => tagAccepts(tag, requested));
}

/** Whether a translation worker listing `pairs` translates `source` into `target`. */
export function acceptsPair(pairs: readonly LanguagePairLike[], source: string, target: string): boolean {
  return pairs.some((pair) => tagAccepts(pair.source, source) && tagAccepts(pair.target, target));
}

function tagAccepts(offered: string, requested: string): boolean {
  if (offered === '' || requested === '') return false;
  const want = requested.toLowerCase();
  const have = offered.toLowerCase();
  if (have === want) return true;
  return !have.includes('-') && want.split('-', 1)[0] === have;
}

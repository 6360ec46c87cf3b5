// Original file: proto/polyglot/v1/translation.proto

import type { TranslationPurpose as _polyglot_v1_TranslationPurpose, TranslationPurpose__Output as _polyglot_v1_TranslationPurpose__Output } from '../../polyglot/v1/TranslationPurpose.js';
import type { Glossary as _polyglot_v1_Glossary, Glossary__Output as _polyglot_v1_Glossary__Output } from '../../polyglot/v1/Glossary.js';

/**
 * A batch of texts in one source language to translate into one or more
 * target languages.
 * 
 * Language tags are BCP-47 ("en", "en-US", "zh-Hant"), matched
 * case-insensitively. A pair (source, target) is accepted when the worker
 * lists a LanguagePair (WorkerDescription.pairs) whose source and target each
 * either equal the requested tag or are a bare language equal to the
 * requested tag's language subtag ("fr-CA" matches a pair listing "fr").
 */
export interface TranslateRequest {
  /**
   * Texts to translate, in one language. 1 to 128 entries, at most 65 536
   * bytes of UTF-8 in total. An empty string is allowed and translates to
   * an empty string. Results refer to texts by index in this list.
   */
  'texts'?: (string)[];
  /**
   * Language of every text, as a BCP-47 tag. Empty asks the worker to
   * detect it; a worker that cannot detect rejects an empty value with
   * INVALID_ARGUMENT.
   */
  'sourceLanguage'?: (string);
  /**
   * Languages to translate into, as BCP-47 tags. 1 to 64 entries, no
   * repeats. A target equal to the source language is allowed; the worker
   * then returns the text unchanged.
   */
  'targetLanguages'?: (string)[];
  /**
   * Organization on whose behalf the call is made. Workers use it for
   * per-organization quotas and accounting. Required (INVALID_ARGUMENT when
   * empty).
   */
  'orgId'?: (string);
  /**
   * Caller-chosen identifier of this call, written to the worker's logs so a
   * call can be traced across services. Optional; not interpreted.
   */
  'requestId'?: (string);
  /**
   * What the text is for. Workers may pick engine settings (latency versus
   * quality) by purpose; the translation contract is the same for every
   * purpose.
   */
  'purpose'?: (_polyglot_v1_TranslationPurpose);
  /**
   * Custom glossaries (organization terminology) to apply: at most one per
   * target language, each carrying its entries, so that every worker,
   * including one with a local engine and no database, can apply them.
   * Optional; a target with no glossary is translated without one.
   * 
   * Rules (INVALID_ARGUMENT when broken): each `target_language` equals one
   * of `target_languages` exactly and appears in at most one glossary;
   * `org_id` is not empty; `source_term` and `target_term` are 1 to 100
   * characters; `source_term` is not repeated (case-insensitively) within
   * a glossary; at most 2 000 entries across all glossaries of the call.
   * 
   * How terms are applied is up to the engine (a cloud engine passes them
   * to its glossary feature, a local one substitutes them); a worker whose
   * engine cannot apply glossaries ignores them. The glossary's source
   * language is the request's `source_language`.
   */
  'glossaries'?: (_polyglot_v1_Glossary)[];
}

/**
 * A batch of texts in one source language to translate into one or more
 * target languages.
 * 
 * Language tags are BCP-47 ("en", "en-US", "zh-Hant"), matched
 * case-insensitively. A pair (source, target) is accepted when the worker
 * lists a LanguagePair (WorkerDescription.pairs) whose source and target each
 * either equal the requested tag or are a bare language equal to the
 * requested tag's language subtag ("fr-CA" matches a pair listing "fr").
 */
export interface TranslateRequest__Output {
  /**
   * Texts to translate, in one language. 1 to 128 entries, at most 65 536
   * bytes of UTF-8 in total. An empty string is allowed and translates to
   * an empty string. Results refer to texts by index in this list.
   */
  'texts': (string)[];
  /**
   * Language of every text, as a BCP-47 tag. Empty asks the worker to
   * detect it; a worker that cannot detect rejects an empty value with
   * INVALID_ARGUMENT.
   */
  'sourceLanguage': (string);
  /**
   * Languages to translate into, as BCP-47 tags. 1 to 64 entries, no
   * repeats. A target equal to the source language is allowed; the worker
   * then returns the text unchanged.
   */
  'targetLanguages': (string)[];
  /**
   * Organization on whose behalf the call is made. Workers use it for
   * per-organization quotas and accounting. Required (INVALID_ARGUMENT when
   * empty).
   */
  'orgId': (string);
  /**
   * Caller-chosen identifier of this call, written to the worker's logs so a
   * call can be traced across services. Optional; not interpreted.
   */
  'requestId': (string);
  /**
   * What the text is for. Workers may pick engine settings (latency versus
   * quality) by purpose; the translation contract is the same for every
   * purpose.
   */
  'purpose': (_polyglot_v1_TranslationPurpose__Output);
  /**
   * Custom glossaries (organization terminology) to apply: at most one per
   * target language, each carrying its entries, so that every worker,
   * including one with a local engine and no database, can apply them.
   * Optional; a target with no glossary is translated without one.
   * 
   * Rules (INVALID_ARGUMENT when broken): each `target_language` equals one
   * of `target_languages` exactly and appears in at most one glossary;
   * `org_id` is not empty; `source_term` and `target_term` are 1 to 100
   * characters; `source_term` is not repeated (case-insensitively) within
   * a glossary; at most 2 000 entries across all glossaries of the call.
   * 
   * How terms are applied is up to the engine (a cloud engine passes them
   * to its glossary feature, a local one substitutes them); a worker whose
   * engine cannot apply glossaries ignores them. The glossary's source
   * language is the request's `source_language`.
   */
  'glossaries': (_polyglot_v1_Glossary__Output)[];
}

// Original file: proto/polyglot/v1/translation.proto

import type { GlossaryEntry as _polyglot_v1_GlossaryEntry, GlossaryEntry__Output as _polyglot_v1_GlossaryEntry__Output } from '../../polyglot/v1/GlossaryEntry.js';

/**
 * One version of an organization's custom glossary for one language pair
 * (TranslateRequest.source_language -> target_language), with its entries.
 */
export interface Glossary {
  /**
   * Organization that owns the glossary. Usually equal to
   * TranslateRequest.org_id.
   */
  'orgId'?: (string);
  /**
   * Target language the glossary applies to, exactly as given in
   * TranslateRequest.target_languages.
   */
  'targetLanguage'?: (string);
  /**
   * Glossary version. Every edit of the glossary creates a new version, so
   * (org_id, source language, target_language, version) always names the
   * same entries: workers and caches of translations may key on it instead
   * of hashing the entries.
   */
  'version'?: (number);
  /**
   * The glossary's terms.
   */
  'entries'?: (_polyglot_v1_GlossaryEntry)[];
}

/**
 * One version of an organization's custom glossary for one language pair
 * (TranslateRequest.source_language -> target_language), with its entries.
 */
export interface Glossary__Output {
  /**
   * Organization that owns the glossary. Usually equal to
   * TranslateRequest.org_id.
   */
  'orgId': (string);
  /**
   * Target language the glossary applies to, exactly as given in
   * TranslateRequest.target_languages.
   */
  'targetLanguage': (string);
  /**
   * Glossary version. Every edit of the glossary creates a new version, so
   * (org_id, source language, target_language, version) always names the
   * same entries: workers and caches of translations may key on it instead
   * of hashing the entries.
   */
  'version': (number);
  /**
   * The glossary's terms.
   */
  'entries': (_polyglot_v1_GlossaryEntry__Output)[];
}

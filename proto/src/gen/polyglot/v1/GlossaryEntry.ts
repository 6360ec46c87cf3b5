// Original file: proto/polyglot/v1/translation.proto


/**
 * One term of a glossary: wherever `source_term` occurs in a text as a whole
 * word or phrase (case-insensitively), the translation uses `target_term`.
 * An entry whose target equals its source keeps the term untranslated
 * (product and company names).
 */
export interface GlossaryEntry {
  /**
   * Term in the source language, 1 to 100 characters.
   */
  'sourceTerm'?: (string);
  /**
   * Term to use in the target language, 1 to 100 characters.
   */
  'targetTerm'?: (string);
}

/**
 * One term of a glossary: wherever `source_term` occurs in a text as a whole
 * word or phrase (case-insensitively), the translation uses `target_term`.
 * An entry whose target equals its source keeps the term untranslated
 * (product and company names).
 */
export interface GlossaryEntry__Output {
  /**
   * Term in the source language, 1 to 100 characters.
   */
  'sourceTerm': (string);
  /**
   * Term to use in the target language, 1 to 100 characters.
   */
  'targetTerm': (string);
}

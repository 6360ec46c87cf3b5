// Original file: proto/polyglot/v1/worker.proto


/**
 * One translation direction.
 */
export interface LanguagePair {
  /**
   * Language translated from, as a BCP-47 tag.
   */
  'source'?: (string);
  /**
   * Language translated into, as a BCP-47 tag.
   */
  'target'?: (string);
}

/**
 * One translation direction.
 */
export interface LanguagePair__Output {
  /**
   * Language translated from, as a BCP-47 tag.
   */
  'source': (string);
  /**
   * Language translated into, as a BCP-47 tag.
   */
  'target': (string);
}

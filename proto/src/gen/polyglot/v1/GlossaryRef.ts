// Original file: proto/polyglot/v1/translation.proto


/**
 * Reference to one version of an organization's custom glossary.
 */
export interface GlossaryRef {
  /**
   * Organization that owns the glossary. Usually equal to
   * TranslateRequest.org_id.
   */
  'orgId'?: (string);
  /**
   * Glossary version. Every edit of the glossary creates a new version, so a
   * (org_id, version) pair always names the same entries; caches of
   * translations key on it.
   */
  'version'?: (number);
}

/**
 * Reference to one version of an organization's custom glossary.
 */
export interface GlossaryRef__Output {
  /**
   * Organization that owns the glossary. Usually equal to
   * TranslateRequest.org_id.
   */
  'orgId': (string);
  /**
   * Glossary version. Every edit of the glossary creates a new version, so a
   * (org_id, version) pair always names the same entries; caches of
   * translations key on it.
   */
  'version': (number);
}

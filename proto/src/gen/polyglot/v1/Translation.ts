// Original file: proto/polyglot/v1/translation.proto


/**
 * Translation of one text into one target language.
 */
export interface Translation {
  /**
   * Index of the source text in TranslateRequest.texts (0-based).
   */
  'textIndex'?: (number);
  /**
   * Target language, exactly as given in TranslateRequest.target_languages.
   */
  'targetLanguage'?: (string);
  /**
   * The translated text.
   */
  'text'?: (string);
  /**
   * Name of the engine that produced this translation (for example
   * "deepl", "apertium"). A worker that falls back between engines reports
   * the one actually used, so it may differ between entries.
   */
  'engine'?: (string);
  /**
   * Source language the engine detected, as a BCP-47 tag. Set only when
   * TranslateRequest.source_language was empty; absent otherwise.
   */
  'detectedSourceLanguage'?: (string);
  '_detectedSourceLanguage'?: "detectedSourceLanguage";
}

/**
 * Translation of one text into one target language.
 */
export interface Translation__Output {
  /**
   * Index of the source text in TranslateRequest.texts (0-based).
   */
  'textIndex': (number);
  /**
   * Target language, exactly as given in TranslateRequest.target_languages.
   */
  'targetLanguage': (string);
  /**
   * The translated text.
   */
  'text': (string);
  /**
   * Name of the engine that produced this translation (for example
   * "deepl", "apertium"). A worker that falls back between engines reports
   * the one actually used, so it may differ between entries.
   */
  'engine': (string);
  /**
   * Source language the engine detected, as a BCP-47 tag. Set only when
   * TranslateRequest.source_language was empty; absent otherwise.
   */
  'detectedSourceLanguage'?: (string);
  '_detectedSourceLanguage'?: "detectedSourceLanguage";
}

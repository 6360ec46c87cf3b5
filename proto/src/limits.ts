// Limits stated in proto/polyglot/v1/*.proto. Servers reject requests beyond them with
// INVALID_ARGUMENT; clients check them first so a bad request never leaves the process.

/** The only sample rate v1 accepts (RecognitionConfig.sample_rate_hz). */
export const SAMPLE_RATE_HZ = 16_000;

/** 100 ms of LINEAR16 16 kHz mono audio: the recommended AudioRequest.audio size. */
export const RECOMMENDED_AUDIO_CHUNK_BYTES = 3_200;

/** Largest AudioRequest.audio chunk (800 ms). */
export const MAX_AUDIO_CHUNK_BYTES = 25_600;

/** Most RecognitionConfig.phrase_hints entries, and the longest entry in characters. */
export const MAX_PHRASE_HINTS = 500;
export const MAX_PHRASE_HINT_CHARS = 100;

/** Audio every server takes on one stream before it may end it with OUT_OF_RANGE. */
export const MIN_STREAM_AUDIO_MS = 270_000;

/** Most TranslateRequest.texts entries. */
export const MAX_TRANSLATE_TEXTS = 128;

/** Most UTF-8 bytes across all TranslateRequest.texts. */
export const MAX_TRANSLATE_TEXT_BYTES = 65_536;

/** Most TranslateRequest.target_languages entries. */
export const MAX_TARGET_LANGUAGES = 64;

/** Most GlossaryEntry values across all TranslateRequest.glossaries of one call. */
export const MAX_GLOSSARY_ENTRIES = 2_000;

/** Longest GlossaryEntry.source_term / target_term, in characters. */
export const MAX_GLOSSARY_TERM_CHARS = 100;

export interface LanguagePair {
  source: string;
  target: string;
}

export interface GlossaryEntry {
  sourceTerm: string;
  targetTerm: string;
}

/** One version of an organization's glossary for one language pair; the entries never change for a given version. */
export interface Glossary {
  orgId: string;
  source: string;
  target: string;
  version: number;
  entries: GlossaryEntry[];
}

export type TranslationPurpose = 'live' | 'chat' | 'document';

/**
 * A validated Translate call, restricted to the targets the engine translates: targets in the
 * source language are answered by the worker itself (the text unchanged) and never reach the engine.
 */
export interface TranslationRequest {
  texts: string[];
  source: string;
  /** Exactly as the caller wrote them; each accepted by one of the engine's pairs. */
  targets: string[];
  /** At most one per target language. */
  glossaries: Glossary[];
  purpose: TranslationPurpose;
  orgId: string;
  requestId: string;
}

export interface TranslatedText {
  textIndex: number;
  target: string;
  text: string;
  engine: string;
}

/** A machine translation engine, plugged into createTranslationWorker(). */
export interface TranslationEngine {
  readonly name: string;
  /** Directed pairs of BCP-47 tags; a bare language ('es') also accepts its regional variants. */
  readonly pairs: readonly LanguagePair[];
  /** Translate calls served at once; the worker answers RESOURCE_EXHAUSTED beyond it. 0: no limit. */
  readonly maxStreams: number;
  /** Every (text, target) or a thrown PolyglotError: a call succeeds or fails as a whole. */
  translate(request: TranslationRequest, signal: AbortSignal): Promise<TranslatedText[]>;
  close(): Promise<void>;
}

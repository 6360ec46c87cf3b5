// The contract's input rules (proto/polyglot/v1/*.proto), checked once by the worker so that no
// engine sees a request that breaks them. Messages say what to change, for the integrator who
// reads them in a client log.
import {
  acceptsLanguage,
  acceptsPair,
  MAX_AUDIO_CHUNK_BYTES,
  MAX_GLOSSARY_ENTRIES,
  MAX_GLOSSARY_TERM_CHARS,
  MAX_PHRASE_HINT_CHARS,
  MAX_PHRASE_HINTS,
  MAX_TARGET_LANGUAGES,
  MAX_TRANSLATE_TEXT_BYTES,
  MAX_TRANSLATE_TEXTS,
  SAMPLE_RATE_HZ,
  type AudioRequest__Output,
  type TranslateRequest__Output,
} from '../../../proto/src/index.js';
import { InvalidArgumentError, NotFoundError } from '../../../core/src/errors.js';
import type { SpeechStreamConfig } from './SpeechEngine.js';
import type { Glossary, LanguagePair, TranslationPurpose, TranslationRequest } from './TranslationEngine.js';

/** The first AudioRequest of a stream, checked; throws InvalidArgumentError or NotFoundError. */
export function validateRecognitionConfig(request: AudioRequest__Output, languages: readonly string[]): SpeechStreamConfig {
  const config = request.config;
  if (request.request !== 'config' || config === null || config === undefined) {
    throw new InvalidArgumentError(
      'the first message of StreamingRecognize must carry `config` (session, track, org, language, 16000 Hz LINEAR16); ' +
        `got ${request.request === 'audio' ? '`audio`' : 'an empty message'}. Send the config first, then audio.`,
    );
  }
  const missing = (['sessionId', 'trackId', 'orgId', 'language'] as const).filter((key) => config[key] === '');
  if (missing.length > 0) {
    throw new InvalidArgumentError(`config.${missing.map(snake).join(', config.')} must not be empty`);
  }
  if (config.sampleRateHz !== SAMPLE_RATE_HZ) {
    throw new InvalidArgumentError(
      `config.sample_rate_hz is ${config.sampleRateHz}; v1 takes only ${SAMPLE_RATE_HZ} Hz mono audio: resample to ${SAMPLE_RATE_HZ} Hz and set sample_rate_hz = ${SAMPLE_RATE_HZ}`,
    );
  }
  if (config.encoding !== 'LINEAR16') {
    throw new InvalidArgumentError(
      `config.encoding is ${config.encoding}; v1 takes only LINEAR16 (signed 16-bit little-endian PCM, mono): set encoding = LINEAR16`,
    );
  }
  if (config.phraseHints.length > MAX_PHRASE_HINTS) {
    throw new InvalidArgumentError(`config.phrase_hints has ${config.phraseHints.length} entries; send at most ${MAX_PHRASE_HINTS}`);
  }
  const longHint = config.phraseHints.find((hint) => hint.length > MAX_PHRASE_HINT_CHARS);
  if (longHint !== undefined) {
    throw new InvalidArgumentError(`config.phrase_hints has an entry of ${longHint.length} characters; the limit is ${MAX_PHRASE_HINT_CHARS}`);
  }
  if (!acceptsLanguage(languages, config.language)) {
    throw new NotFoundError(
      `this worker does not recognize "${config.language}"; it recognizes ${languages.join(', ')}. ` +
        'Pick a worker that announces this language, or send one of these tags',
    );
  }
  return {
    sessionId: config.sessionId,
    trackId: config.trackId,
    orgId: config.orgId,
    language: config.language,
    sampleRateHz: SAMPLE_RATE_HZ,
    interimResults: config.interimResults,
    phraseHints: config.phraseHints,
  };
}

/** A later AudioRequest of a stream, checked; returns its audio. */
export function validateAudioChunk(request: AudioRequest__Output): Buffer {
  if (request.request === 'config') {
    throw new InvalidArgumentError('a second `config` arrived; send `config` once, as the first message, then only `audio`');
  }
  const audio = request.audio;
  if (request.request !== 'audio' || audio === undefined || audio.length === 0) {
    throw new InvalidArgumentError('an `audio` message is empty; send 2 to 25600 bytes of LINEAR16 audio per message');
  }
  if (audio.length % 2 !== 0) {
    throw new InvalidArgumentError(`an \`audio\` chunk has ${audio.length} bytes, an odd number; send whole 16-bit samples`);
  }
  if (audio.length > MAX_AUDIO_CHUNK_BYTES) {
    throw new InvalidArgumentError(
      `an \`audio\` chunk has ${audio.length} bytes; the limit is ${MAX_AUDIO_CHUNK_BYTES} (800 ms): send ~100 ms (3200 bytes) per message`,
    );
  }
  return audio;
}

/** A Translate call, checked and split into what the engine does and what the worker answers itself. */
export interface ValidatedTranslation {
  /** The part for the engine; undefined when every target is the source language. */
  engineRequest: TranslationRequest | undefined;
  /** Targets in the source language: the worker returns the text unchanged. */
  identityTargets: ReadonlySet<string>;
  /** Every target, in request order. */
  targets: string[];
}

const PURPOSES: Record<TranslateRequest__Output['purpose'], TranslationPurpose> = {
  PURPOSE_UNSPECIFIED: 'live',
  LIVE: 'live',
  CHAT: 'chat',
  DOCUMENT: 'document',
};

/** Checks a Translate request; throws InvalidArgumentError or NotFoundError. */
export function validateTranslateRequest(request: TranslateRequest__Output, pairs: readonly LanguagePair[]): ValidatedTranslation {
  const { texts, sourceLanguage: source, targetLanguages: targets, orgId } = request;
  if (texts.length === 0) throw new InvalidArgumentError('texts is empty; send 1 to 128 texts per call');
  if (texts.length > MAX_TRANSLATE_TEXTS) {
    throw new InvalidArgumentError(`texts has ${texts.length} entries; send at most ${MAX_TRANSLATE_TEXTS} per call (split the batch)`);
  }
  const bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0);
  if (bytes > MAX_TRANSLATE_TEXT_BYTES) {
    throw new InvalidArgumentError(
      `texts total ${bytes} bytes of UTF-8; the limit is ${MAX_TRANSLATE_TEXT_BYTES} per call (split the batch)`,
    );
  }
  if (targets.length === 0) throw new InvalidArgumentError('target_languages is empty; send 1 to 64 target languages');
  if (targets.length > MAX_TARGET_LANGUAGES) {
    throw new InvalidArgumentError(`target_languages has ${targets.length} entries; send at most ${MAX_TARGET_LANGUAGES} per call`);
  }
  const seen = new Set<string>();
  for (const target of targets) {
    if (target === '') throw new InvalidArgumentError('target_languages has an empty entry');
    const key = target.toLowerCase();
    if (seen.has(key)) throw new InvalidArgumentError(`target_languages repeats "${target}"; list each target once`);
    seen.add(key);
  }
  if (orgId === '') throw new InvalidArgumentError('org_id must not be empty');
  if (source === '') {
    throw new InvalidArgumentError('source_language is empty and this worker cannot detect languages; set source_language');
  }

  const identityTargets = new Set<string>();
  const engineTargets: string[] = [];
  const unsupported: string[] = [];
  for (const target of targets) {
    if (acceptsPair(pairs, source, target)) engineTargets.push(target);
    // A target in the source language needs no engine; checked after the pairs, so that an engine
    // that offers en -> en-x-piglatin still gets those calls.
    else if (primaryLanguage(target) === primaryLanguage(source)) identityTargets.add(target);
    else unsupported.push(target);
  }
  if (unsupported.length > 0) {
    throw new NotFoundError(
      `this worker does not translate ${unsupported.map((target) => `${source} -> ${target}`).join(', ')}; ` +
        `it translates ${describePairs(pairs)}. Pick a worker that announces the pair`,
    );
  }

  const glossaries = validateGlossaries(request, targets);
  return {
    engineRequest:
      engineTargets.length === 0
        ? undefined
        : {
            texts,
            source,
            targets: engineTargets,
            glossaries: glossaries.filter((glossary) => engineTargets.includes(glossary.target)),
            purpose: PURPOSES[request.purpose],
            orgId,
            requestId: request.requestId,
          },
    identityTargets,
    targets,
  };
}

function validateGlossaries(request: TranslateRequest__Output, targets: readonly string[]): Glossary[] {
  const byTarget = new Set<string>();
  let entries = 0;
  return request.glossaries.map((glossary, index) => {
    const where = `glossaries[${index}]`;
    if (!targets.includes(glossary.targetLanguage)) {
      throw new InvalidArgumentError(
        `${where}.target_language "${glossary.targetLanguage}" is not one of target_languages; send glossaries only for targets of the call, written the same way`,
      );
    }
    if (byTarget.has(glossary.targetLanguage)) {
      throw new InvalidArgumentError(`two glossaries for target "${glossary.targetLanguage}"; send at most one per target`);
    }
    byTarget.add(glossary.targetLanguage);
    if (glossary.orgId === '') throw new InvalidArgumentError(`${where}.org_id must not be empty`);
    entries += glossary.entries.length;
    if (entries > MAX_GLOSSARY_ENTRIES) {
      throw new InvalidArgumentError(`the glossaries carry more than ${MAX_GLOSSARY_ENTRIES} entries in total; send at most ${MAX_GLOSSARY_ENTRIES}`);
    }
    const terms = new Set<string>();
    for (const [i, entry] of glossary.entries.entries()) {
      for (const [field, term] of [
        ['source_term', entry.sourceTerm],
        ['target_term', entry.targetTerm],
      ] as const) {
        if (term.trim() === '' || term.length > MAX_GLOSSARY_TERM_CHARS) {
          throw new InvalidArgumentError(
            `${where}.entries[${i}].${field} has ${term.trim() === '' ? 'no text' : `${term.length} characters`}; send 1 to ${MAX_GLOSSARY_TERM_CHARS} characters`,
          );
        }
      }
      const key = entry.sourceTerm.trim().toLowerCase();
      if (terms.has(key)) throw new InvalidArgumentError(`${where} repeats source_term "${entry.sourceTerm}"; list each term once`);
      terms.add(key);
    }
    return {
      orgId: glossary.orgId,
      source: request.sourceLanguage,
      target: glossary.targetLanguage,
      version: glossary.version,
      entries: glossary.entries.map((entry) => ({ sourceTerm: entry.sourceTerm.trim(), targetTerm: entry.targetTerm.trim() })),
    };
  });
}

function primaryLanguage(tag: string): string {
  return tag.toLowerCase().split('-', 1)[0] ?? '';
}

function describePairs(pairs: readonly LanguagePair[]): string {
  const listed = pairs.slice(0, 12).map((pair) => `${pair.source} -> ${pair.target}`);
  return pairs.length > listed.length ? `${listed.join(', ')} and ${pairs.length - listed.length} more` : listed.join(', ') || 'nothing';
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

import type { GlossaryEntry, TranslatedText, TranslationEngine, TranslationRequest } from '../../../sdk/src/index.js';

/** English into Pig Latin ("hello world" -> "ellohay orldway"): a pair no other worker offers. */
export class PigLatinEngine implements TranslationEngine {
  readonly name = 'piglatin';
  readonly pairs = [{ source: 'en', target: 'en-x-piglatin' }];
  readonly maxStreams = 0; // pure CPU, microseconds per call: no limit of its own

  // The worker has already checked the request (sizes, pairs, glossaries): translate, nothing else.
  async translate(request: TranslationRequest): Promise<TranslatedText[]> {
    return request.targets.flatMap((target) => {
      const glossary = request.glossaries.find((g) => g.target === target)?.entries ?? [];
      return request.texts.map((text, textIndex) => ({ textIndex, target, text: pigLatin(text, glossary), engine: this.name }));
    });
  }

  async close(): Promise<void> {}
}

/** Word by word; a word that is a glossary term (one-word terms only) becomes its target term. */
function pigLatin(text: string, glossary: readonly GlossaryEntry[]): string {
  return text.replace(/\p{L}+/gu, (word) => {
    const term = glossary.find((entry) => entry.sourceTerm.toLowerCase() === word.toLowerCase());
    if (term) return term.targetTerm;
    const [, onset = '', rest = ''] = /^([^aeiou]*)(.*)$/i.exec(word) ?? [];
    const latin = rest === '' ? `${word}way` : onset === '' ? `${word}way` : `${rest}${onset}ay`.toLowerCase();
    return word[0] === word[0]?.toUpperCase() ? latin.charAt(0).toUpperCase() + latin.slice(1) : latin;
  });
}

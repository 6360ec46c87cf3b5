// Glossary terms for Apertium, which has no glossary feature of its own.
//
// Approach: protect, translate, substitute. Before translating, every occurrence of a source term
// (whole words, case-insensitive, longest term first) is replaced by a placeholder: a five-digit
// number that does not occur in the text. Apertium copies numbers through unchanged and in place
// (we checked eng-spa, eng-cat, en-gl and back: a number keeps its position in the sentence and
// does not change the capitalisation around it, unlike an unknown word such as "zxqa", which
// makes Apertium capitalise the next word as if a sentence started there). After translating,
// each placeholder is replaced by the term's target. The surrounding words are translated
// knowing only that a number stood there, so agreement (gender, plural) around a term can be off:
// "the roadmap is ready" -> "el hoja de ruta está a punto". A term kept as is ("Polyglot
// Connect" -> "Polyglot Connect") is an entry whose target equals its source.
//
// If the translation lost a placeholder, the caller translates the text again without the
// glossary rather than return a sentence with a term missing.
import type { GlossaryEntry } from '../../sdk/src/index.js';

export interface ProtectedText {
  /** The text with placeholders, to translate. */
  text: string;
  /** Placeholder -> target term. */
  placeholders: Map<string, string>;
  /** The text starts with a term written with a capital (a sentence start): its target gets one too. */
  capitalStart: boolean;
}

const FIRST_PLACEHOLDER = 73_100;

/** Replaces the glossary's source terms in `text` with placeholders. */
export function protectTerms(text: string, entries: readonly GlossaryEntry[]): ProtectedText {
  const placeholders = new Map<string, string>();
  if (entries.length === 0) return { text, placeholders, capitalStart: false };
  const sorted = [...entries].sort((a, b) => b.sourceTerm.length - a.sourceTerm.length);
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${sorted.map((e) => escapeRegExp(e.sourceTerm)).join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  let base = FIRST_PLACEHOLDER;
  while (sorted.some((_, i) => text.includes(String(base + i)))) base += 1_000;
  const byTerm = new Map(sorted.map((entry, i) => [entry.sourceTerm.toLowerCase().replace(/\s+/g, ' '), { placeholder: String(base + i), target: entry.targetTerm }]));
  let capitalStart = false;
  const protectedText = text.replace(pattern, (match, offset: number) => {
    const term = byTerm.get(match.toLowerCase().replace(/\s+/g, ' '));
    if (!term) return match;
    if (text.slice(0, offset).trim() === '' && /^\p{Lu}/u.test(match)) capitalStart = true;
    placeholders.set(term.placeholder, term.target);
    return term.placeholder;
  });
  return { text: protectedText, placeholders, capitalStart };
}

/** Puts the target terms back; undefined when a placeholder went missing in translation. */
export function restoreTerms(translated: string, { placeholders, capitalStart }: ProtectedText): string | undefined {
  let out = translated;
  for (const [placeholder, target] of placeholders) {
    const pattern = new RegExp(`(?<!\\d)${placeholder}(?!\\d)`, 'g');
    if (!pattern.test(out)) return undefined;
    out = out.replace(pattern, (_match, offset: number) =>
      capitalStart && out.slice(0, offset).trim() === '' ? target.charAt(0).toUpperCase() + target.slice(1) : target,
    );
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
}

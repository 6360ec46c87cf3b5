// Word error rate for the quality scoreboard, with the normalization written down once.
//
// Both sides are normalized the same way before they are compared:
//  - lowercase;
//  - hyphens and slashes become spaces ("follow-up" -> "follow up"), apostrophes inside a word are
//    kept ("don't", "speaker's"), every other punctuation mark is removed;
//  - numbers: the corpus's reference transcripts (`spoken`) spell numbers as words, the way they are
//    said and the way PocketSphinx writes them ("2026" -> "twenty twenty six", "3.5" -> "three point
//    five"); a digit left in either side is compared as written, so a recognizer that writes digits
//    would be counted wrong until its numbers are spelled out too.

export function normalizeForWer(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[-/]/g, ' ')
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}

/** Edit operations between the normalized word sequences: substitutions + deletions + insertions. */
export function wordErrors(reference: string, hypothesis: string): { errors: number; words: number } {
  const ref = normalizeForWer(reference);
  return { errors: editDistance(ref, normalizeForWer(hypothesis)), words: ref.length };
}

/** Levenshtein distance between two word sequences (each substitution, deletion, insertion costs 1). */
export function editDistance(ref: readonly string[], hyp: readonly string[]): number {
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1));
    }
    previous = current;
  }
  return previous[hyp.length] ?? 0;
}

/** Corpus WER: total errors over total reference words (not a mean of sentence rates). */
export function corpusWer(pairs: readonly { reference: string; hypothesis: string }[]): number {
  let errors = 0;
  let words = 0;
  for (const { reference, hypothesis } of pairs) {
    const e = wordErrors(reference, hypothesis);
    errors += e.errors;
    words += e.words;
  }
  return words === 0 ? 0 : errors / words;
}

// Pronunciations for words PocketSphinx's dictionary lacks. The Debian model ships no
// grapheme-to-phoneme model, so espeak-ng (already a dependency of the speech tests) spells the
// word in its ASCII phoneme mnemonics (`espeak-ng -x`) and this table maps them to the CMU phone
// set of cmudict-en-us. Stress marks and espeak's variant digits carry nothing CMU phones keep.
import { execFileSync } from 'node:child_process';

/** espeak-ng English mnemonics -> CMU phones; longest match first (see `espeakToCmu`). */
const ESPEAK_TO_CMU: ReadonlyMap<string, readonly string[]> = new Map([
  // Vowels and diphthongs (en-us). r-coloured ones first: they are the longer keys.
  ['A@', ['AA', 'R']],
  ['O@', ['AO', 'R']],
  ['e@', ['EH', 'R']],
  ['i@3', ['IH', 'R']],
  ['i@', ['IY', 'AH']],
  ['U@', ['UH', 'R']],
  ['aI@3', ['AY', 'ER']],
  ['aI@', ['AY', 'ER']],
  ['aI3', ['AY', 'ER']],
  ['aU@', ['AW', 'ER']],
  ['aI', ['AY']],
  ['aU', ['AW']],
  ['eI', ['EY']],
  ['OI', ['OY']],
  ['oU', ['OW']],
  ['A:', ['AA']],
  ['i:', ['IY']],
  ['u:', ['UW']],
  ['O:', ['AO']],
  ['3:', ['ER']],
  ['@L', ['AH', 'L']],
  ['@', ['AH']],
  ['3', ['ER']],
  ['a', ['AE']],
  ['A', ['AA']],
  ['e', ['EH']],
  ['E', ['EH']],
  ['I', ['IH']],
  ['i', ['IY']],
  ['0', ['AA']],
  ['O', ['AO']],
  ['o', ['OW']],
  ['U', ['UH']],
  ['u', ['UW']],
  ['V', ['AH']],
  // Consonants.
  ['tS', ['CH']],
  ['dZ', ['JH']],
  ['T', ['TH']],
  ['D', ['DH']],
  ['S', ['SH']],
  ['Z', ['ZH']],
  ['N', ['NG']],
  ['j', ['Y']],
  ['t#', ['T']],
  ['p', ['P']],
  ['b', ['B']],
  ['t', ['T']],
  ['d', ['D']],
  ['k', ['K']],
  ['g', ['G']],
  ['f', ['F']],
  ['v', ['V']],
  ['s', ['S']],
  ['z', ['Z']],
  ['h', ['HH']],
  ['m', ['M']],
  ['n', ['N']],
  ['l', ['L']],
  ['r', ['R']],
  ['w', ['W']],
  ['x', ['K']],
]);
const LONGEST_KEY = Math.max(...[...ESPEAK_TO_CMU.keys()].map((k) => k.length));

/**
 * CMU phones for one word's espeak-ng mnemonics (`espeak-ng -x`), e.g. `kj'u:b3n,i:ts` ->
 * `K Y UW B ER N IY T S`. Greedy longest match; a character the table does not know is skipped.
 */
export function espeakToCmu(mnemonics: string): string[] {
  const phones: string[] = [];
  let i = 0;
  while (i < mnemonics.length) {
    let matched = false;
    for (let len = Math.min(LONGEST_KEY, mnemonics.length - i); len > 0; len--) {
      const cmu = ESPEAK_TO_CMU.get(mnemonics.slice(i, i + len));
      if (!cmu) continue;
      phones.push(...cmu);
      i += len;
      matched = true;
      break;
    }
    // Not a phoneme: a stress or boundary mark, a variant digit ('I2', '@5') or an unknown sign.
    if (!matched) i++;
  }
  return phones;
}

/** The words of hint phrases as the dictionary spells them: lowercase letters and apostrophes. */
export function hintWords(phrases: readonly string[]): string[] {
  const words = new Set<string>();
  for (const phrase of phrases) {
    for (const raw of phrase.toLowerCase().split(/[^a-z']+/)) {
      const word = raw.replace(/^'+|'+$/g, '');
      if (word.length > 0 && word.length <= 40) words.add(word);
    }
  }
  return [...words];
}

/**
 * CMU pronunciations for `words` by espeak-ng (US English), one process for all of them. A word
 * espeak cannot spell, or whose phones do not map, is left out.
 */
export function pronounce(words: readonly string[], voice = 'en-us'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (words.length === 0) return out;
  const stdout = execFileSync('espeak-ng', ['-q', '-x', '-v', voice], { input: `${words.join('\n\n')}\n`, encoding: 'utf8', timeout: 10_000 });
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length !== words.length) {
    // espeak-ng joined or split a line: ask word by word instead.
    for (const word of words) {
      const one = execFileSync('espeak-ng', ['-q', '-x', '-v', voice, word], { encoding: 'utf8', timeout: 10_000 }).trim().split(/\s+/);
      const phones = one.flatMap(espeakToCmu);
      if (phones.length > 0) out.set(word, phones);
    }
    return out;
  }
  for (const [i, word] of words.entries()) {
    const phones = (lines[i] ?? '').split(/\s+/).flatMap(espeakToCmu);
    if (phones.length > 0) out.set(word, phones);
  }
  return out;
}

// chrF (Popović 2015) as sacreBLEU 2.x computes it by default: character n-grams of orders 1..6
// with whitespace removed, no word n-grams, beta 2, case-sensitive; precision and recall averaged
// over the orders both sides have n-grams of, then one F-beta from the two averages. A corpus
// score sums the n-gram statistics over its sentences first (sacreBLEU's corpus_score), it is not
// a mean of sentence scores.

export const CHRF_CHAR_ORDER = 6;
export const CHRF_BETA = 2;

/** Per order n (index n-1): n-grams in the hypothesis, in the reference, and matched (clipped). */
export interface ChrfStats {
  hyp: number[];
  ref: number[];
  match: number[];
}

function ngramCounts(chars: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= chars.length; i++) {
    const gram = chars.slice(i, i + n).join('');
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return counts;
}

/** Statistics of one sentence pair. Characters are code points, so 'ç' or 'ñ' count as one. */
export function chrfStats(hypothesis: string, reference: string, order = CHRF_CHAR_ORDER): ChrfStats {
  const hypChars = [...hypothesis.replace(/\s+/g, '')];
  const refChars = [...reference.replace(/\s+/g, '')];
  const stats: ChrfStats = { hyp: [], ref: [], match: [] };
  for (let n = 1; n <= order; n++) {
    const h = ngramCounts(hypChars, n);
    const r = ngramCounts(refChars, n);
    let match = 0;
    for (const [gram, count] of h) match += Math.min(count, r.get(gram) ?? 0);
    stats.hyp.push(Math.max(0, hypChars.length - n + 1));
    stats.ref.push(Math.max(0, refChars.length - n + 1));
    stats.match.push(match);
  }
  return stats;
}

/** chrF in 0..100 from (summed) statistics. */
export function chrfFromStats(stats: ChrfStats, beta = CHRF_BETA): number {
  const factor = beta * beta;
  let precision = 0;
  let recall = 0;
  let orders = 0;
  for (let i = 0; i < stats.hyp.length; i++) {
    const hyp = stats.hyp[i] ?? 0;
    const ref = stats.ref[i] ?? 0;
    if (hyp === 0 || ref === 0) continue;
    precision += (stats.match[i] ?? 0) / hyp;
    recall += (stats.match[i] ?? 0) / ref;
    orders++;
  }
  if (orders === 0) return 0;
  precision /= orders;
  recall /= orders;
  if (precision + recall === 0) return 0;
  return (100 * (1 + factor) * precision * recall) / (factor * precision + recall);
}

/** Corpus chrF of aligned hypotheses and references (one reference each). */
export function corpusChrf(hypotheses: readonly string[], references: readonly string[]): number {
  if (hypotheses.length !== references.length) throw new TypeError(`corpusChrf: ${hypotheses.length} hypotheses for ${references.length} references`);
  const total: ChrfStats = { hyp: new Array<number>(CHRF_CHAR_ORDER).fill(0), ref: new Array<number>(CHRF_CHAR_ORDER).fill(0), match: new Array<number>(CHRF_CHAR_ORDER).fill(0) };
  for (const [i, hyp] of hypotheses.entries()) {
    const s = chrfStats(hyp, references[i] ?? '');
    for (let n = 0; n < CHRF_CHAR_ORDER; n++) {
      total.hyp[n]! += s.hyp[n] ?? 0;
      total.ref[n]! += s.ref[n] ?? 0;
      total.match[n]! += s.match[n] ?? 0;
    }
  }
  return chrfFromStats(total);
}

/** chrF of one sentence. */
export function sentenceChrf(hypothesis: string, reference: string): number {
  return chrfFromStats(chrfStats(hypothesis, reference));
}

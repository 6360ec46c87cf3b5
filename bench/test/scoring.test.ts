import t from 'tap';

import { chrfStats, corpusChrf, sentenceChrf } from '../quality/chrF.js';
import { mixAtSnr, rms } from '../quality/corpus.js';
import { corpusWer, normalizeForWer, wordErrors } from '../quality/wer.js';

// Expected values worked out by hand from sacreBLEU 2.x's definition (see chrF.ts).
t.test('chrF on small cases computed by hand', async (t) => {
  const close = (got: number, want: number, msg: string) => t.ok(Math.abs(got - want) < 1e-9, `${msg}: ${got} vs ${want}`);
  close(sentenceChrf('ab', 'ab'), 100, 'identical');
  // n=1: P=R=1/2; n=2: P=R=0 (both sides have one bigram); averages 1/4 and 1/4 -> F = 1/4.
  close(sentenceChrf('ab', 'ac'), 25, 'one of two characters');
  // Whitespace is removed: "abc" vs "abcd". P=1 at n=1..3; R = 3/4, 2/3, 1/2 -> 23/36;
  // n>=4: no hypothesis n-grams, order left out. F2 = 5*(23/36) / (4 + 23/36) = 115/167.
  close(sentenceChrf('a b c', 'abcd'), (100 * 115) / 167, 'a prefix, spaces ignored');
  // Clipped counts: n=1 P=1/3, R=1; n=2,3 the reference has none. F2 = (5/3) / (4/3 + 1) = 5/7.
  close(sentenceChrf('aaa', 'a'), (100 * 5) / 7, 'repeats clipped to the reference count');
  // Corpus: statistics summed first. n=1: 3 of 4 both ways; n=2: 1 of 2 -> P=R=0.625.
  close(corpusChrf(['ab', 'ab'], ['ab', 'ac']), 62.5, 'corpus sums statistics');
  close(sentenceChrf('', 'abc'), 0, 'empty hypothesis');
  close(sentenceChrf('ça', 'ça'), 100, 'code points, not UTF-16 units');
  t.same(chrfStats('abc', 'abd'), { hyp: [3, 2, 1, 0, 0, 0], ref: [3, 2, 1, 0, 0, 0], match: [2, 1, 0, 0, 0, 0] });
  t.throws(() => corpusChrf(['a'], []), TypeError);
});

t.test('WER normalization and counts', async (t) => {
  t.same(normalizeForWer("Welcome, everyone! It's the Q3 follow-up."), ['welcome', 'everyone', "it's", 'the', 'q3', 'follow', 'up']);
  t.same(wordErrors('the cat sat', 'the cat sat'), { errors: 0, words: 3 });
  t.same(wordErrors('the cat sat', 'a cat sat down'), { errors: 2, words: 3 }, 'one substitution, one insertion');
  t.same(wordErrors('The cat, sat.', 'the cat'), { errors: 1, words: 3 }, 'case and punctuation do not count; one deletion');
  t.equal(corpusWer([{ reference: 'a b c d', hypothesis: 'a b c d' }, { reference: 'e f', hypothesis: 'e' }]), 1 / 6, 'total errors over total words');
});

t.test('noise is mixed at the asked SNR, measured back on the mix', async (t) => {
  const speech = new Int16Array(16_000).map((_, i) => Math.round(8_000 * Math.sin((2 * Math.PI * 440 * i) / 16_000)));
  // A fixed pseudo-random noise (LCG), standing in for sox's pink noise.
  let seed = 1;
  const noise = new Int16Array(32_000).map(() => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.round((seed / 2 ** 31 - 0.5) * 20_000);
  });
  const padded = new Int16Array(20_000);
  padded.set(speech, 2_000);
  const { mix, snrDb } = mixAtSnr(padded, 2_000, 18_000, noise, 5_000, 10);
  t.ok(Math.abs(snrDb - 10) < 0.01, `measured ${snrDb.toFixed(4)} dB`);
  t.ok(Math.abs(20 * Math.log10(rms(speech) / rms(mix.map((v, i) => v - (padded[i] ?? 0)), 2_000, 18_000)) - 10) < 0.01, 'same by an independent measure');
  t.not(mix[0], 0, 'the noise runs through the padding too');
});

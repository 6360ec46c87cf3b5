import tap from 'tap';
import type { RecognitionResult } from '../../sdk/src/index.js';
import { OverlapFilter } from '../src/OverlapFilter.js';

const word = (w: string, startMs: number, endMs: number) => ({ word: w, startMs, endMs, confidence: 0.9 });
const final = (words: ReturnType<typeof word>[]): RecognitionResult => ({
  segmentId: '',
  isFinal: true,
  text: words.map((w) => w.word).join(' '),
  confidence: 0.9,
  startMs: words[0]?.startMs ?? 0,
  endMs: words[words.length - 1]?.endMs ?? 0,
  words,
});
const interim = (text: string, startMs: number, endMs: number): RecognitionResult => ({ segmentId: '', isFinal: false, text, confidence: 0, startMs, endMs, words: [] });

tap.test('finals with word timings keep only the words starting at or after the watermark', async (t) => {
  const cases: { name: string; watermark: number; in: RecognitionResult; out: string | undefined }[] = [
    { name: 'all new', watermark: 1000, in: final([word('c', 1000, 1200), word('d', 1200, 1400)]), out: 'c d' },
    { name: 'overlap dropped', watermark: 1000, in: final([word('a', 600, 800), word('b', 800, 1000), word('c', 1000, 1200)]), out: 'c' },
    { name: 'a word cut at the seam stays with the old call', watermark: 900, in: final([word('b', 800, 1000), word('c', 1000, 1200)]), out: 'c' },
    { name: 'entirely finalized already', watermark: 1000, in: final([word('a', 600, 800), word('b', 800, 1000)]), out: undefined },
  ];
  for (const c of cases) {
    const out = new OverlapFilter(c.watermark, []).apply(c.in);
    t.equal(out?.text, c.out, c.name);
    if (out && c.out) t.equal(out.startMs, out.words[0]?.startMs, `${c.name}: start follows the first kept word`);
  }
});

tap.test('interims (no timings) lose the prefix that repeats the finalized overlap', async (t) => {
  const cases: { name: string; overlap: string[]; in: RecognitionResult; out: string | undefined }[] = [
    { name: 'whole overlap repeated', overlap: ['a', 'b'], in: interim('a b c', 500, 1300), out: 'c' },
    { name: 'tail of the overlap repeated', overlap: ['x', 'a', 'b'], in: interim('a b c d', 500, 1300), out: 'c d' },
    { name: 'punctuation and case do not matter', overlap: ['Hello,', 'world.'], in: interim('hello world again', 500, 1300), out: 'again' },
    { name: 'nothing in common', overlap: ['a', 'b'], in: interim('c d', 500, 1300), out: 'c d' },
    { name: 'only the overlap so far', overlap: ['a', 'b'], in: interim('a b', 500, 1300), out: undefined },
    { name: 'ends before the watermark', overlap: [], in: interim('a', 500, 900), out: undefined },
  ];
  for (const c of cases) t.equal(new OverlapFilter(1000, c.overlap).apply(c.in)?.text, c.out, c.name);
});

tap.test('the first final let through ends the overlap', async (t) => {
  const filter = new OverlapFilter(1000, ['a']);
  t.equal(filter.apply(interim('a b', 500, 1200))?.text, 'b');
  t.notOk(filter.done);
  t.equal(filter.apply(final([word('a', 600, 1000), word('b', 1000, 1200)]))?.text, 'b');
  t.ok(filter.done);
  t.equal(filter.apply(interim('a b c', 1200, 1800))?.text, 'a b c', 'later results pass untouched');
});

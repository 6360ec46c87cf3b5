import { pino } from 'pino';
import t from 'tap';

import type { RecognitionResult, SpeechStream, SpeechStreamConfig } from '../../sdk/src/index.js';
import { PocketSphinxEngine } from '../src/PocketSphinxEngine.js';
import { espeakToCmu, hintWords, pronounce } from '../src/pronunciation.js';
import { speak, type Speech } from '../../../test/support/festivalSpeech.js';

const log = pino({ level: 'silent' });

t.test('espeak-ng mnemonics map to CMU phones', async (t) => {
  const cases: [string, string][] = [
    ["kj'u:b3n,i:ts", 'K Y UW B ER N IY T S'], // Kubernetes
    ["'ap3t,i@m", 'AE P ER T IY AH M'], // Apertium
    ["0k'O2NkwoU", 'AA K AO NG K W OW'], // Okonkwo: '2' is a variant digit, not a phone
    ["graf'A:n@", 'G R AE F AA N AH'], // Grafana
    ["tS'3:tS", 'CH ER CH'], // church
    ["dZ'eIsAn", 'JH EY S AA N'],
    ["T'O:t", 'TH AO T'], // thought
    ["m'O@", 'M AO R'],
    ["h'aI@", 'HH AY ER'],
  ];
  for (const [mnemonics, cmu] of cases) t.equal(espeakToCmu(mnemonics).join(' '), cmu, mnemonics);
});

t.test('hint phrases split into dictionary words', async (t) => {
  t.same(hintWords(['Kubernetes cluster', "Okonkwo's talk", 'Grafana 11!', 'kubernetes']), ['kubernetes', 'cluster', "okonkwo's", 'talk', 'grafana']);
  t.same(hintWords(['', '  ', '42']), []);
});

t.test('pronounce asks espeak-ng once and maps every word', async (t) => {
  const got = pronounce(['kubernetes', 'grafana']);
  t.same(got.get('kubernetes'), ['K', 'Y', 'UW', 'B', 'ER', 'N', 'IY', 'T', 'S']);
  t.ok((got.get('grafana')?.length ?? 0) >= 6);
});

const CONFIG: SpeechStreamConfig = {
  sessionId: 's',
  trackId: 't',
  orgId: 'o',
  language: 'en-US',
  sampleRateHz: 16_000,
  interimResults: false,
  phraseHints: [],
};

async function finals(stream: SpeechStream, speech: Speech): Promise<string> {
  for (let offset = 0; offset < speech.pcm.length; offset += 3_200) stream.pushAudio(speech.pcm.subarray(offset, offset + 3_200));
  stream.endInput();
  const results: RecognitionResult[] = [];
  for await (const result of stream) if (result.isFinal) results.push(result);
  return results.map((r) => r.text).join(' ');
}

t.test('a word missing from the dictionary is recognized with a hint, and only in that stream', async (t) => {
  const engine = await PocketSphinxEngine.start({ log, maxStreams: 1 });
  t.teardown(() => engine.close());
  const speech = await speak(t, ['we run everything on kubernetes now']);
  const hinted = await finals(engine.openStream({ ...CONFIG, phraseHints: ['Kubernetes'] }, new AbortController().signal), speech);
  t.comment(`with the hint: ${hinted}`);
  t.match(hinted, /\bkubernetes\b/, 'the hinted word is recognized');
  const plain = await finals(engine.openStream(CONFIG, new AbortController().signal), speech);
  t.comment(`without: ${plain}`);
  t.notMatch(plain, /\bkubernetes\b/, 'the next stream, without hints, has a decoder that never heard of it');
});

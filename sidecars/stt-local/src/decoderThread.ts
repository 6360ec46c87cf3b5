// Entry of a decoder thread (worker_threads). PocketSphinx blocks while it decodes, so each
// thread owns one decoder and serves one stream at a time; the event loop of the worker process
// never waits on it. Messages: threadMessages.ts.
import { parentPort, workerData } from 'node:worker_threads';

import { PocketSphinxDecoder } from './PocketSphinxDecoder.js';
import { hintWords, pronounce } from './pronunciation.js';
import { isToDecoder, type FromDecoder, type ToDecoder } from './threadMessages.js';

const port = parentPort;
if (!port) throw new Error('decoderThread.ts runs only as a worker thread');
const modelDir = modelDirOf(workerData);

function modelDirOf(data: unknown): string {
  const dir: unknown = typeof data === 'object' && data !== null ? Reflect.get(data, 'modelDir') : undefined;
  if (typeof dir !== 'string') throw new Error('decoderThread: workerData.modelDir must be a string');
  return dir;
}

const SAMPLES_PER_CHUNK = 1_600; // 100 ms: one partial hypothesis per chunk

let decoder: PocketSphinxDecoder | undefined;
let interim = false;
let inSpeech = false;
let utterance = 0;
let lastPartial = '';
let utteranceStartMs = 0;
let samples = 0;

function send(message: FromDecoder): void {
  port?.postMessage(message);
}

function freshDecoder(): void {
  decoder?.free();
  decoder = new PocketSphinxDecoder({ modelDir });
  inSpeech = false;
  lastPartial = '';
  samples = 0;
  send({ type: 'ready' });
}

function positionMs(): number {
  return (samples * 1000) / 16_000;
}

function finishUtterance(d: PocketSphinxDecoder): void {
  const words = d.endUtterance();
  const hadInterim = interim && lastPartial !== '';
  inSpeech = false;
  lastPartial = '';
  // A final for every segment that had interims, even when the end turned out to be noise.
  if (words.length === 0 && !hadInterim) return;
  const first = words[0];
  const last = words.at(-1);
  send({
    type: 'final',
    utterance,
    text: words.map((w) => w.word).join(' '),
    startMs: first?.startMs ?? utteranceStartMs,
    endMs: last?.endMs ?? positionMs(),
    confidence: words.length === 0 ? 0 : words.reduce((sum, w) => sum + w.confidence, 0) / words.length,
    words,
  });
}

function decode(d: PocketSphinxDecoder, pcm: Int16Array): void {
  for (let offset = 0; offset < pcm.length; offset += SAMPLES_PER_CHUNK) {
    const chunk = pcm.subarray(offset, Math.min(offset + SAMPLES_PER_CHUNK, pcm.length));
    const speech = d.process(chunk);
    samples += chunk.length;
    if (speech) {
      if (!inSpeech) {
        inSpeech = true;
        utterance++;
        utteranceStartMs = Math.max(0, positionMs() - 300);
      }
      const partial = d.partial();
      if (interim && partial !== '' && partial !== lastPartial) {
        send({ type: 'interim', utterance, text: partial, startMs: utteranceStartMs, endMs: positionMs() });
      }
      if (partial !== '') lastPartial = partial;
    } else if (inSpeech) {
      finishUtterance(d);
    }
  }
}

/**
 * Phrase hints: the hinted words the dictionary lacks get a pronunciation from espeak-ng and enter
 * the dictionary and the language model. Words the dictionary has are left as they are. The
 * decoder is thrown away at the end of the stream, so one stream's hints never reach another.
 */
function addHints(d: PocketSphinxDecoder, phrases: string[]): void {
  const missing = hintWords(phrases).filter((word) => !d.knows(word));
  const added = missing.length === 0 ? [] : d.addWords(pronounce(missing));
  send({ type: 'hinted', added });
}

function handle(message: ToDecoder): void {
  switch (message.type) {
    case 'open':
      interim = message.interim;
      utterance = 0;
      if (!decoder) freshDecoder();
      if (decoder && message.phraseHints.length > 0) addHints(decoder, message.phraseHints);
      return;
    case 'audio':
      if (decoder) decode(decoder, message.pcm);
      send({ type: 'consumed', samples: message.pcm.length });
      return;
    case 'end':
      if (decoder && inSpeech) finishUtterance(decoder);
      send({ type: 'ended' });
      // The next stream starts from a decoder that never heard this one (no adapted noise model).
      freshDecoder();
      return;
    case 'reset':
      freshDecoder();
      return;
    case 'close':
      decoder?.free();
      decoder = undefined;
      port?.close();
      return;
  }
}

port.on('message', (message: unknown) => {
  try {
    if (!isToDecoder(message)) throw new Error('decoder thread: unexpected message');
    handle(message);
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});

try {
  freshDecoder();
} catch (err) {
  send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
}

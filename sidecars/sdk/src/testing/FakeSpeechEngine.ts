import { AsyncQueue } from '../AsyncQueue.js';
import type { RecognitionResult, SpeechEngine, SpeechStream, SpeechStreamConfig, WordTiming } from '../SpeechEngine.js';

export interface FakeSpeechEngineOptions {
  name?: string;
  languages?: string[];
  maxStreams?: number;
  /** Audio chunks per utterance: each chunk is one word ("w1", "w2", …), every Nth ends the utterance. */
  chunksPerUtterance?: number;
}

/**
 * A deterministic SpeechEngine for tests of the SDK and of clients: every audio chunk is one word,
 * an interim follows each chunk (when asked for), a final ends every `chunksPerUtterance` chunks
 * and the last utterance at endInput(). It records every stream it opened.
 */
export class FakeSpeechEngine implements SpeechEngine {
  readonly name: string;
  readonly languages: readonly string[];
  readonly maxStreams: number;
  /** Configs of the streams opened, in order. */
  readonly opened: SpeechStreamConfig[] = [];
  readonly #chunksPerUtterance: number;
  readonly #streams = new Set<FakeSpeechStream>();
  closed = false;

  constructor({ name = 'fake-stt', languages = ['en'], maxStreams = 4, chunksPerUtterance = 3 }: FakeSpeechEngineOptions = {}) {
    this.name = name;
    this.languages = languages;
    this.maxStreams = maxStreams;
    this.#chunksPerUtterance = chunksPerUtterance;
  }

  /** Streams open right now. */
  get openStreams(): number {
    return this.#streams.size;
  }

  openStream(config: SpeechStreamConfig, signal: AbortSignal): SpeechStream {
    this.opened.push(config);
    const stream = new FakeSpeechStream(config, this.#chunksPerUtterance, () => this.#streams.delete(stream));
    this.#streams.add(stream);
    signal.addEventListener('abort', () => stream.close(), { once: true });
    return stream;
  }

  close(): Promise<void> {
    this.closed = true;
    for (const stream of this.#streams) stream.close();
    return Promise.resolve();
  }
}

class FakeSpeechStream implements SpeechStream {
  readonly #config: SpeechStreamConfig;
  readonly #chunksPerUtterance: number;
  readonly #onClose: () => void;
  readonly #results: AsyncQueue<RecognitionResult>;
  #words: WordTiming[] = [];
  #segment = 1;
  #positionMs = 0;
  #closed = false;

  constructor(config: SpeechStreamConfig, chunksPerUtterance: number, onClose: () => void) {
    this.#config = config;
    this.#chunksPerUtterance = chunksPerUtterance;
    this.#onClose = onClose;
    this.#results = new AsyncQueue({ limit: 10_000, overflow: 'error', onReturn: () => this.close() });
  }

  pushAudio(pcm: Buffer): void {
    if (this.#closed || this.#results.closed) return;
    const startMs = this.#positionMs;
    this.#positionMs += pcm.length / 32;
    this.#words.push({ word: `w${this.#words.length + 1}`, startMs, endMs: this.#positionMs, confidence: 0.9 });
    if (this.#words.length >= this.#chunksPerUtterance) this.#final();
    else if (this.#config.interimResults) this.#results.push(this.#result(false));
  }

  endInput(): void {
    if (this.#words.length > 0) this.#final();
    this.#results.end();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#results.end();
    this.#onClose();
  }

  [Symbol.asyncIterator](): AsyncIterator<RecognitionResult> {
    return this.#results;
  }

  #final(): void {
    this.#results.push(this.#result(true));
    this.#words = [];
    this.#segment++;
  }

  #result(isFinal: boolean): RecognitionResult {
    const first = this.#words[0];
    const last = this.#words.at(-1);
    return {
      segmentId: `s${this.#segment}`,
      isFinal,
      text: this.#words.map((w) => w.word).join(' '),
      confidence: isFinal ? 0.9 : 0,
      startMs: first?.startMs ?? this.#positionMs,
      endMs: last?.endMs ?? this.#positionMs,
      words: [...this.#words],
    };
  }
}

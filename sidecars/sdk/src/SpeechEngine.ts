/** What a speech stream is asked to recognize; the first message of StreamingRecognize, validated. */
export interface SpeechStreamConfig {
  sessionId: string;
  trackId: string;
  orgId: string;
  /** BCP-47, one the engine announced. */
  language: string;
  /** Always 16000: LINEAR16 mono little-endian. */
  sampleRateHz: 16000;
  interimResults: boolean;
  /** Glossary terms of the organization, as recognition hints. */
  phraseHints: string[];
}

export interface WordTiming {
  word: string;
  startMs: number;
  endMs: number;
  confidence: number;
}

export interface RecognitionResult {
  /** Stable across the interims and the final of one utterance. */
  segmentId: string;
  isFinal: boolean;
  text: string;
  confidence: number;
  /** Offsets from the start of this stream's audio. */
  startMs: number;
  endMs: number;
  words: WordTiming[];
}

/**
 * One recognition stream: audio goes in through pushAudio()/endInput(), results come out by async
 * iteration and end after the final of the last utterance once input has ended. Breaking out of
 * the iteration or calling close() releases the engine's resources. An iteration that throws a
 * PolyglotError ends the call with that error's status (UnavailableError -> UNAVAILABLE).
 *
 * The worker calls pushAudio() as audio arrives, at about real-time pace, except after a client's
 * failover, when a few seconds of buffered audio arrive at once: an engine queue should hold at
 * least a minute of audio before it drops any.
 */
export interface SpeechStream extends AsyncIterable<RecognitionResult> {
  /** 16 kHz mono LINEAR16; any length of whole samples. */
  pushAudio(pcm: Buffer): void;
  endInput(): void;
  close(): void;
}

/** A speech-to-text engine, plugged into createSpeechWorker(). */
export interface SpeechEngine {
  /** Short engine name reported to clients and in metrics, e.g. 'pocketsphinx'. */
  readonly name: string;
  /** BCP-47 tags this engine recognizes. */
  readonly languages: readonly string[];
  /** Streams this engine serves at once; the worker answers RESOURCE_EXHAUSTED beyond it. */
  readonly maxStreams: number;
  /**
   * Opens a stream for a config the worker already validated (sample rate, encoding, language in
   * `languages`). Throws a PolyglotError subclass for a config it still cannot serve. `signal`
   * aborts when the call is cancelled or the worker stops; close() follows.
   */
  openStream(config: SpeechStreamConfig, signal: AbortSignal): SpeechStream;
  close(): Promise<void>;
}

import { protos, type SpeechClient } from '@google-cloud/speech';
import type { WordTiming } from '../../sdk/src/index.js';
import { BYTES_PER_MS } from './ProviderReplayBuffer.js';

const v1 = protos.google.cloud.speech.v1;
type StreamingRecognitionConfig = protos.google.cloud.speech.v1.IStreamingRecognitionConfig;
type RawCall = ReturnType<SpeechClient['_streamingRecognize']>;

/** A provider result with offsets already moved onto the engine stream's timeline. */
export interface CallResult {
  isFinal: boolean;
  text: string;
  confidence: number;
  startMs: number;
  endMs: number;
  words: WordTiming[];
}

export interface GoogleRecognizeCallHandlers {
  result(call: GoogleRecognizeCall, result: CallResult): void;
  /** The provider ended the call with OK (after our half-close, or on its own). */
  end(call: GoogleRecognizeCall): void;
  error(call: GoogleRecognizeCall, err: unknown): void;
}

export interface GoogleRecognizeCallOptions {
  client: SpeechClient;
  streamingConfig: StreamingRecognitionConfig;
  /** Engine-stream offset of this call's first audio byte. */
  baseMs: number;
  id: number;
  handlers: GoogleRecognizeCallHandlers;
}

function durationMs(d: protos.google.protobuf.IDuration | null | undefined): number {
  if (!d) return 0;
  const seconds = typeof d.seconds === 'number' ? d.seconds : Number(d.seconds?.toString() ?? 0);
  return seconds * 1000 + (d.nanos ?? 0) / 1e6;
}

/**
 * One Google StreamingRecognize call (v1, bidi gRPC). Writes the config then raw audio; decodes
 * responses into results on the engine stream's timeline (call offsets + baseMs). Reports each
 * result, and exactly one of end / error, unless cancel() came first.
 */
export class GoogleRecognizeCall {
  readonly id: number;
  readonly baseMs: number;
  readonly #call: RawCall;
  readonly #handlers: GoogleRecognizeCallHandlers;
  #audioBytes = 0;
  /** Call offset where the next utterance starts: Google interims carry no start time. */
  #utteranceStartMs = 0;
  #state: 'open' | 'half-closed' | 'done' = 'open';

  constructor({ client, streamingConfig, baseMs, id, handlers }: GoogleRecognizeCallOptions) {
    this.id = id;
    this.baseMs = baseMs;
    this.#handlers = handlers;
    // google-gax never retries a bidi call (a retry would lose the audio already written); replacing
    // failed calls is GoogleSpeechStream's job, which replays the audio since the last final.
    this.#call = client._streamingRecognize();
    this.#call.on('data', (data: unknown) => this.#onData(data));
    this.#call.on('error', (err: unknown) => this.#finish(() => this.#handlers.error(this, err)));
    this.#call.on('end', () => this.#finish(() => this.#handlers.end(this)));
    this.#call.write({ streamingConfig });
  }

  /** Audio written to this call so far. */
  get audioMs(): number {
    return this.#audioBytes / BYTES_PER_MS;
  }

  get open(): boolean {
    return this.#state === 'open';
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  write(pcm: Buffer): void {
    if (this.#state !== 'open') return;
    this.#audioBytes += pcm.length;
    this.#call.write({ audioContent: pcm });
  }

  /** Half-close: Google finalizes what it heard, sends those finals, then ends the call. */
  end(): void {
    if (this.#state !== 'open') return;
    this.#state = 'half-closed';
    this.#call.end();
  }

  /** Drops the call: no further handler runs. */
  cancel(): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    this.#call.cancel();
    // gax reports the cancellation as an 'error' event; the listener above ignores it now.
  }

  #finish(report: () => void): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    report();
  }

  #onData(data: unknown): void {
    if (this.#state === 'done' || typeof data !== 'object' || data === null) return;
    const response = v1.StreamingRecognizeResponse.fromObject(data);
    if (response.error && response.error.code) {
      const { code, message } = response.error;
      this.#finish(() => this.#handlers.error(this, Object.assign(new Error(message || 'speech error'), { code })));
      this.#call.cancel();
      return;
    }
    const interim: string[] = [];
    let interimEndMs = 0;
    for (const result of response.results) {
      const alternative = result.alternatives?.[0];
      const endMs = durationMs(result.resultEndTime);
      if (!result.isFinal) {
        if (alternative?.transcript) interim.push(alternative.transcript.trim());
        interimEndMs = Math.max(interimEndMs, endMs);
        continue;
      }
      const words: WordTiming[] = (alternative?.words ?? []).map((w) => ({
        word: w.word ?? '',
        startMs: Math.round(this.baseMs + durationMs(w.startTime)),
        endMs: Math.round(this.baseMs + durationMs(w.endTime)),
        confidence: w.confidence ?? 0,
      }));
      const startMs = words[0]?.startMs ?? Math.round(this.baseMs + this.#utteranceStartMs);
      this.#utteranceStartMs = endMs;
      this.#handlers.result(this, {
        isFinal: true,
        text: alternative?.transcript?.trim() ?? '',
        confidence: alternative?.confidence ?? 0,
        startMs,
        endMs: Math.max(startMs, Math.round(this.baseMs + endMs)),
        words,
      });
    }
    if (interim.length > 0) {
      const startMs = Math.round(this.baseMs + this.#utteranceStartMs);
      this.#handlers.result(this, {
        isFinal: false,
        text: interim.join(' '),
        confidence: 0,
        startMs,
        endMs: Math.max(startMs, Math.round(this.baseMs + interimEndMs)),
        words: [],
      });
    }
  }
}

import { once } from 'node:events';

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';

import type { AudioRequest__Output, RecognitionEvent } from '../../../proto/src/index.js';
import type { CallGate, CallTicket } from './CallGate.js';
import { CancelledError, InvalidArgumentError, UnavailableError } from '../../../core/src/errors.js';
import { SafeEmitter } from '../../../core/src/events.js';
import { toServiceError } from './grpcStatus.js';
import type { WorkerObserverEvents } from './LanguageWorker.js';
import type { RecognitionResult, SpeechEngine, SpeechStream } from './SpeechEngine.js';
import { validateAudioChunk, validateRecognitionConfig } from './validation.js';

export type RecognizeCallEvents = { '@close': [] };

export interface RecognizeCallOptions {
  call: grpc.ServerDuplexStream<AudioRequest__Output, RecognitionEvent>;
  engine: SpeechEngine;
  gate: CallGate;
  log: Logger;
  /** The worker's observer: metrics hang off it. */
  observer: SafeEmitter<WorkerObserverEvents>;
}

/**
 * One StreamingRecognize call: checks the config, takes a slot from the gate, feeds the audio to
 * one engine stream and writes its results back, honouring the HTTP/2 flow control of the reply.
 * It ends with OK after the client half-closes and the engine sent its last final, or with the
 * status of the first error.
 */
export class RecognizeCall extends SafeEmitter<RecognizeCallEvents> {
  readonly #call: grpc.ServerDuplexStream<AudioRequest__Output, RecognitionEvent>;
  readonly #engine: SpeechEngine;
  readonly #gate: CallGate;
  readonly #observer: SafeEmitter<WorkerObserverEvents>;
  readonly #abort = new AbortController();
  readonly #startedAt = performance.now();
  #log: Logger;
  #ticket: CallTicket | undefined;
  #stream: SpeechStream | undefined;
  #configured = false;
  #windingDown = false;
  #closed = false;

  constructor({ call, engine, gate, log, observer }: RecognizeCallOptions) {
    super(log);
    this.#call = call;
    this.#engine = engine;
    this.#gate = gate;
    this.#log = log;
    this.#observer = observer;
    observer.safeEmit('callStarted', { method: 'StreamingRecognize' });
    call.on('data', (request: AudioRequest__Output) => this.#onData(request));
    call.on('end', () => this.#onEnd());
    call.on('cancelled', () => this.#finish(new CancelledError('the client cancelled the call'), false));
  }

  /**
   * The worker is shutting down: the engine gets no more audio and flushes the finals of what it
   * has; the call then ends with UNAVAILABLE so the client continues on another worker from its
   * last final (the client still holds the audio after it).
   */
  windDown(): void {
    if (this.#closed || this.#windingDown) return;
    this.#windingDown = true;
    if (this.#stream) this.#stream.endInput();
    else this.#finish(new UnavailableError('this worker is shutting down; retry on another worker'));
  }

  /** Ends the call at once with `reason`'s status; pending results are lost. */
  abort(reason: Error): void {
    this.#finish(reason);
  }

  #onData(request: AudioRequest__Output): void {
    if (this.#closed) return;
    try {
      if (!this.#configured) {
        const config = validateRecognitionConfig(request, this.#engine.languages);
        this.#configured = true;
        this.#ticket = this.#gate.enter();
        this.#log = this.#log.child({ sessionId: config.sessionId, trackId: config.trackId, language: config.language });
        this.#stream = this.#engine.openStream(config, AbortSignal.any([this.#ticket.signal, this.#abort.signal]));
        this.#log.debug('stream opened');
        void this.#pump(this.#stream);
        return;
      }
      const audio = validateAudioChunk(request);
      // Audio after a wind-down has no engine to go to; the client replays it on its next worker.
      if (this.#windingDown || !this.#stream) return;
      this.#observer.safeEmit('audioReceived', { bytes: audio.length });
      this.#stream.pushAudio(audio);
    } catch (err) {
      this.#finish(err);
    }
  }

  #onEnd(): void {
    if (this.#closed) return;
    if (!this.#configured) {
      this.#finish(new InvalidArgumentError('the stream ended before `config` arrived; send `config` as the first message'));
      return;
    }
    this.#stream?.endInput();
  }

  async #pump(stream: SpeechStream): Promise<void> {
    try {
      for await (const result of stream) {
        if (this.#closed) return;
        this.#observer.safeEmit('recognition', { isFinal: result.isFinal });
        if (!this.#call.write(this.#event(result))) await once(this.#call, 'drain', { signal: this.#abort.signal });
      }
      if (this.#windingDown) this.#finish(new UnavailableError('this worker is shutting down; continue on another worker from your last final'));
      else this.#finish(undefined);
    } catch (err) {
      // Our own abort ends the pump after #finish already reported the call.
      if (!this.#closed) this.#finish(err);
    }
  }

  #event(result: RecognitionResult): RecognitionEvent {
    return {
      segmentId: result.segmentId,
      isFinal: result.isFinal,
      text: result.text,
      confidence: result.confidence,
      startMs: Math.max(0, Math.round(result.startMs)),
      endMs: Math.max(0, Math.round(result.endMs)),
      words: result.words.map((w) => ({ word: w.word, startMs: Math.max(0, Math.round(w.startMs)), endMs: Math.max(0, Math.round(w.endMs)), confidence: w.confidence })),
      engine: this.#engine.name,
    };
  }

  /** Ends the call once: OK when `err` is undefined; `send` false when the call is already gone. */
  #finish(err: unknown, send = true): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort(err instanceof Error ? err : new CancelledError('call finished'));
    this.#stream?.close();
    this.#ticket?.release();
    const status = err === undefined ? undefined : toServiceError(err);
    const code = status?.code ?? grpc.status.OK;
    if (send) {
      if (status) this.#call.emit('error', status);
      else this.#call.end();
    }
    if (status && code !== grpc.status.CANCELLED) this.#log.info({ code: grpc.status[code], details: status.details }, 'stream failed');
    else this.#log.debug({ code: grpc.status[code] }, 'stream ended');
    this.#observer.safeEmit('callEnded', { method: 'StreamingRecognize', code, durationMs: performance.now() - this.#startedAt });
    this.safeEmit('@close');
  }
}

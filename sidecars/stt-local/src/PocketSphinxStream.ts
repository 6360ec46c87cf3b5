import type { Logger } from 'pino';

import {
  AsyncQueue,
  InternalError,
  UnavailableError,
  type RecognitionResult,
  type SpeechStream,
  type SpeechStreamConfig,
} from '../../sdk/src/index.js';
import type { DecoderSlot } from './DecoderSlot.js';
import type { FromDecoder } from './threadMessages.js';

export interface PocketSphinxStreamOptions {
  slot: DecoderSlot;
  config: SpeechStreamConfig;
  log: Logger;
  /** Audio held for the decoder before the oldest is dropped. */
  maxPendingMs: number;
}

/** Audio posted to the thread and not yet decoded; the rest waits here, where it can be bounded. */
const IN_FLIGHT_SAMPLES = 16_000;

/**
 * A SpeechStream on one decoder thread. Audio waits in a bounded queue here (the thread's message
 * port has no bound) and goes to the thread one second at a time; results come back as interims
 * and finals, with segment ids u1, u2, … per utterance.
 */
export class PocketSphinxStream implements SpeechStream {
  readonly #slot: DecoderSlot;
  readonly #log: Logger;
  readonly #results: AsyncQueue<RecognitionResult>;
  readonly #pending: Int16Array[] = [];
  readonly #maxPendingSamples: number;
  #pendingSamples = 0;
  #inFlightSamples = 0;
  #carry: Buffer | undefined;
  #inputEnded = false;
  #endSent = false;
  #closed = false;
  #droppedSamples = 0;
  readonly #onMessage = (message: FromDecoder): void => this.#handle(message);
  readonly #onDead = (err: Error): void => {
    this.#results.fail(new UnavailableError('the PocketSphinx decoder thread died; retry on a new stream', err));
    this.close();
  };

  constructor({ slot, config, log, maxPendingMs }: PocketSphinxStreamOptions) {
    this.#slot = slot;
    this.#log = log;
    this.#maxPendingSamples = Math.max(IN_FLIGHT_SAMPLES, Math.round((maxPendingMs * 16_000) / 1000));
    this.#results = new AsyncQueue({ limit: 1_000, overflow: 'error', onReturn: () => this.close() });
    slot.acquire();
    slot.on('message', this.#onMessage);
    slot.once('dead', this.#onDead);
    slot.post({ type: 'open', interim: config.interimResults, phraseHints: [...config.phraseHints] });
  }

  pushAudio(pcm: Buffer): void {
    if (this.#closed || this.#inputEnded) return;
    let bytes = pcm;
    if (this.#carry) {
      bytes = Buffer.concat([this.#carry, pcm]);
      this.#carry = undefined;
    }
    const whole = bytes.length - (bytes.length % 2);
    if (whole < bytes.length) this.#carry = Buffer.from(bytes.subarray(whole));
    if (whole === 0) return;
    // A copy: aligned for Int16Array, and ours to transfer to the thread.
    const samples = new Int16Array(whole / 2);
    Buffer.from(samples.buffer).set(bytes.subarray(0, whole));
    this.#pending.push(samples);
    this.#pendingSamples += samples.length;
    while (this.#pendingSamples > this.#maxPendingSamples && this.#pending.length > 1) {
      // Latency beats completeness: the decoder is too slow for this stream, skip the oldest audio.
      const dropped = this.#pending.shift();
      this.#pendingSamples -= dropped?.length ?? 0;
      this.#droppedSamples += dropped?.length ?? 0;
    }
    this.#pump();
  }

  endInput(): void {
    if (this.#closed || this.#inputEnded) return;
    this.#inputEnded = true;
    this.#pump();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#slot.off('message', this.#onMessage);
    this.#slot.off('dead', this.#onDead);
    // A stream that ended normally left the thread loading its next decoder already.
    if (!this.#endSent) this.#slot.post({ type: 'reset' });
    this.#slot.release();
    this.#results.end();
    if (this.#droppedSamples > 0) this.#log.warn({ droppedMs: Math.round(this.#droppedSamples / 16) }, 'audio dropped: decoder fell behind');
  }

  [Symbol.asyncIterator](): AsyncIterator<RecognitionResult> {
    return this.#results;
  }

  #pump(): void {
    while (this.#inFlightSamples < IN_FLIGHT_SAMPLES && this.#pending.length > 0) {
      const samples = this.#pending.shift();
      if (!samples) break;
      this.#pendingSamples -= samples.length;
      this.#inFlightSamples += samples.length;
      this.#slot.post({ type: 'audio', pcm: samples });
    }
    if (this.#inputEnded && !this.#endSent && this.#pending.length === 0) {
      this.#endSent = true;
      this.#slot.post({ type: 'end' });
    }
  }

  #handle(message: FromDecoder): void {
    switch (message.type) {
      case 'consumed':
        this.#inFlightSamples -= message.samples;
        this.#pump();
        return;
      case 'interim':
        this.#results.push({
          segmentId: `u${message.utterance}`,
          isFinal: false,
          text: message.text,
          confidence: 0,
          startMs: message.startMs,
          endMs: message.endMs,
          words: [],
        });
        return;
      case 'final':
        this.#results.push({
          segmentId: `u${message.utterance}`,
          isFinal: true,
          text: message.text,
          confidence: message.confidence,
          startMs: message.startMs,
          endMs: message.endMs,
          words: message.words,
        });
        return;
      case 'ended':
        this.#results.end();
        this.close();
        return;
      case 'error':
        this.#results.fail(new InternalError(`PocketSphinx: ${message.message}`));
        this.close();
        return;
      case 'hinted':
        if (message.added.length > 0) this.#log.debug({ added: message.added }, 'phrase hints added to the dictionary');
        return;
      case 'ready':
        return;
    }
  }
}

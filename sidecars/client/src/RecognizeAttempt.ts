import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';

import {
  loadContract,
  MAX_AUDIO_CHUNK_BYTES,
  type AudioRequest,
  type RecognitionConfig,
  type RecognitionEvent__Output,
  type SpeechToTextClient,
} from '../../../proto/src/index.js';
import { SafeEmitter } from '../../../core/src/events.js';
import type { PolyglotError } from '../../../core/src/errors.js';
import { fromServiceError } from '../../sdk/src/index.js';
import type { WorkerInfo } from './WorkerRegistry.js';

export type RecognizeAttemptEvents = {
  event: [RecognitionEvent__Output];
  /** The worker ended the call with OK (after the input ended). */
  end: [];
  /** The call failed; `code` is its gRPC status. Never emitted after cancel(). */
  failed: [PolyglotError, grpc.status];
};

/** Client keepalive: a worker whose host vanished (no TCP reset) is noticed within ~15 s. */
const CHANNEL_OPTIONS: grpc.ClientOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
};

/**
 * One StreamingRecognize call on one worker, for ResilientSpeechStream: its audio starts at
 * absolute offset `baseByte` of the caller's stream, so event offsets are relative to that.
 */
export class RecognizeAttempt extends SafeEmitter<RecognizeAttemptEvents> {
  readonly worker: WorkerInfo;
  readonly baseByte: number;
  readonly #client: SpeechToTextClient;
  readonly #call: grpc.ClientDuplexStream<AudioRequest, RecognitionEvent__Output>;
  #cancelled = false;
  #finished = false;
  #inputEnded = false;

  constructor(worker: WorkerInfo, config: RecognitionConfig, baseByte: number, log: Logger) {
    super(log);
    this.worker = worker;
    this.baseByte = baseByte;
    this.#client = new (loadContract().SpeechToText.Client)(worker.address, worker.credentials, CHANNEL_OPTIONS);
    this.#call = this.#client.StreamingRecognize();
    this.#call.on('data', (event: RecognitionEvent__Output) => {
      if (!this.#cancelled) this.safeEmit('event', event);
    });
    this.#call.on('error', (err: grpc.ServiceError) => this.#finish(err));
    this.#call.on('end', () => this.#finish(undefined));
    this.#call.write({ config });
  }

  /** Sends audio, cut into chunks the contract accepts; `pcm` has whole samples. */
  write(pcm: Buffer): void {
    if (this.#cancelled || this.#finished || this.#inputEnded) return;
    for (let offset = 0; offset < pcm.length; offset += MAX_AUDIO_CHUNK_BYTES) {
      this.#call.write({ audio: pcm.subarray(offset, offset + MAX_AUDIO_CHUNK_BYTES) });
    }
  }

  /** Half-closes: the worker sends its last finals and ends the call. */
  endInput(): void {
    if (this.#inputEnded) return;
    this.#inputEnded = true;
    if (!this.#cancelled && !this.#finished) this.#call.end();
  }

  /** Abandons the call (it emits nothing more) and closes the channel. Idempotent. */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    if (!this.#finished) this.#call.cancel();
    this.#client.close();
  }

  #finish(err: grpc.ServiceError | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#client.close();
    if (this.#cancelled) return;
    if (err === undefined) this.safeEmit('end');
    else this.safeEmit('failed', fromServiceError(err), err.code);
  }
}

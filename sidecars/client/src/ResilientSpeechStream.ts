import { randomBytes } from 'node:crypto';

import * as grpc from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';

import { SAMPLE_RATE_HZ, type RecognitionConfig, type RecognitionEvent__Output } from '../../../proto/src/index.js';
import { SafeEmitter } from '../../../core/src/events.js';
import { AsyncQueue, CancelledError, UnavailableError, type PolyglotError } from '../../sdk/src/index.js';
import { RecognizeAttempt } from './RecognizeAttempt.js';
import { WorkerReplayBuffer } from './WorkerReplayBuffer.js';
import type { WorkerInfo, WorkerRegistry, WorkerRemovedReason } from './WorkerRegistry.js';

/** A recognition result on the stream's own timeline. */
export interface SpeechResult {
  /** Unique within this ResilientSpeechStream, across failovers: `<attempt>-<worker's segment id>`. */
  segmentId: string;
  isFinal: boolean;
  text: string;
  confidence: number;
  /** From the first byte pushed into this stream, whichever worker recognized it. */
  startMs: number;
  endMs: number;
  words: { word: string; startMs: number; endMs: number; confidence: number }[];
  engine: string;
  workerId: string;
}

export interface FailoverInfo {
  from: string;
  to: string;
  /** Status code name of the failure that caused it. */
  reason: string;
  /** Audio sent again to the new worker: everything after the last final. */
  replayedMs: number;
  /** Segments that had interims and will get no final (the new worker recognizes their audio again). */
  abandonedSegments: string[];
  /** From the failure to the new call being open with its replay sent. */
  switchMs: number;
}

export type ResilientSpeechStreamEvents = {
  /** The stream moved to another worker; consumers may clear the abandoned interims. */
  failover: [FailoverInfo];
};

export type ResilientSpeechStreamObserverEvents = {
  attempt: [{ workerId: string; attempt: number }];
  audioDropped: [{ ms: number }];
  close: [];
};

export interface ResilientSpeechStreamOptions {
  registry: WorkerRegistry;
  config: { sessionId: string; trackId: string; orgId: string; language: string; interimResults?: boolean; phraseHints?: string[] };
  /** Audio kept since the last final, to replay on another worker; default 60 000 ms. */
  replayBufferMs?: number;
  /** How long to wait for a usable worker of the language before failing; default 10 000 ms. */
  workerWaitMs?: number;
  /** Failovers in a row without a final between them before the stream gives up; default 4. */
  maxFailoversInRow?: number;
  log?: Logger;
}

const BYTES_PER_MS = (SAMPLE_RATE_HZ * 2) / 1000;

/** Statuses after which the audio is worth sending to another worker. */
const FAILOVER_CODES = new Set([
  grpc.status.UNAVAILABLE,
  grpc.status.CANCELLED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.ABORTED,
  grpc.status.NOT_FOUND,
  // The worker's per-stream limit: not a failure, the next stream continues.
  grpc.status.OUT_OF_RANGE,
]);

/**
 * A speech stream that survives its worker. Audio goes to a worker picked from the registry and
 * is also kept, from the end of the last final on, in a bounded buffer. When the call fails
 * (the worker died: UNAVAILABLE, a broken stream; it shut down; it is full) or the worker leaves
 * the registry, a new call opens on another worker and the buffered audio is replayed into it,
 * so every word spoken after the last final is recognized again and none is lost. Results carry
 * offsets on this stream's timeline and segment ids unique across attempts.
 */
export class ResilientSpeechStream extends SafeEmitter<ResilientSpeechStreamEvents> implements AsyncIterable<SpeechResult> {
  readonly id = randomBytes(4).toString('hex');
  readonly observer: SafeEmitter<ResilientSpeechStreamObserverEvents>;
  readonly #registry: WorkerRegistry;
  readonly #config: RecognitionConfig;
  readonly #language: string;
  readonly #buffer: WorkerReplayBuffer;
  readonly #results: AsyncQueue<SpeechResult>;
  readonly #workerWaitMs: number;
  readonly #maxFailoversInRow: number;
  readonly #abort = new AbortController();
  readonly #openSegments = new Set<string>();
  readonly #log: Logger;
  #attempt: RecognizeAttempt | undefined;
  #attempts = 0;
  #failoversInRow = 0;
  #connecting: Promise<void> | undefined;
  #carry: Buffer | undefined;
  #inputEnded = false;
  #closed = false;
  #reportedDroppedBytes = 0;
  readonly #onWorkerRemoved = (worker: WorkerInfo, reason: WorkerRemovedReason): void => {
    // A goodbye is followed by the worker ending our call with UNAVAILABLE after its last finals;
    // an expiry means it stopped announcing (crashed or cut off): do not wait for TCP to notice.
    if (reason === 'expired' && this.#attempt?.worker.id === worker.id) {
      this.#failover(this.#attempt, new UnavailableError(`worker ${worker.id} expired from the registry`), 'expired');
    }
  };

  constructor({ registry, config, replayBufferMs = 60_000, workerWaitMs = 10_000, maxFailoversInRow = 4, log = pino({ level: 'silent' }) }: ResilientSpeechStreamOptions) {
    super(log);
    this.observer = new SafeEmitter(log);
    this.#registry = registry;
    this.#config = {
      sessionId: config.sessionId,
      trackId: config.trackId,
      orgId: config.orgId,
      language: config.language,
      sampleRateHz: SAMPLE_RATE_HZ,
      encoding: 'LINEAR16',
      interimResults: config.interimResults ?? true,
      phraseHints: config.phraseHints ?? [],
    };
    this.#language = config.language;
    this.#buffer = new WorkerReplayBuffer(Math.round(replayBufferMs * BYTES_PER_MS));
    this.#workerWaitMs = workerWaitMs;
    this.#maxFailoversInRow = maxFailoversInRow;
    this.#log = log.child({ module: 'ResilientSpeechStream', stream: this.id, sessionId: config.sessionId, trackId: config.trackId });
    this.#results = new AsyncQueue({ limit: 1_000, overflow: 'error', onReturn: () => this.close() });
    registry.on('workerRemoved', this.#onWorkerRemoved);
    this.#connect();
  }

  /** The worker serving the stream now, if any. */
  get workerId(): string | undefined {
    return this.#attempt?.worker.id;
  }

  /** Calls opened so far (1 + failovers). */
  get attempts(): number {
    return this.#attempts;
  }

  /** 16 kHz mono LINEAR16, any length. */
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
    const audio = bytes.subarray(0, whole);
    this.#buffer.append(audio);
    if (this.#buffer.droppedBytes > this.#reportedDroppedBytes) {
      this.observer.safeEmit('audioDropped', { ms: (this.#buffer.droppedBytes - this.#reportedDroppedBytes) / BYTES_PER_MS });
      this.#reportedDroppedBytes = this.#buffer.droppedBytes;
    }
    this.#attempt?.write(audio);
  }

  /** No more audio: the stream ends after the finals of what was pushed. */
  endInput(): void {
    if (this.#closed || this.#inputEnded) return;
    this.#inputEnded = true;
    this.#attempt?.endInput();
  }

  /** Stops at once: cancels the call; iteration ends. Idempotent. */
  close(): void {
    this.#shutdown(undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<SpeechResult> {
    return this.#results;
  }

  /** Opens the next call, waiting for a worker if none is usable; at most one connect at a time. */
  #connect(): void {
    if (this.#connecting || this.#closed) return;
    const failedAt = performance.now();
    const previous = this.#attempt;
    this.#attempt = undefined;
    this.#connecting = (async () => {
      let worker = this.#registry.pickSpeechWorker(this.#language);
      if (!worker) {
        this.#log.info({ language: this.#language }, 'no speech worker available; waiting');
        const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#workerWaitMs)]);
        worker = await this.#registry.waitForSpeechWorker(this.#language, signal);
      }
      if (this.#closed) return;
      const attempt = new RecognizeAttempt(worker, this.#config, this.#buffer.startByte, this.#log.child({ workerId: worker.id }));
      this.#attempts++;
      this.#attempt = attempt;
      attempt.on('event', (event) => this.#onEvent(attempt, event));
      attempt.once('end', () => this.#onEnd(attempt));
      attempt.once('failed', (err, code) => this.#failover(attempt, err, code));
      // Replay: everything no final covers yet, then live audio continues through pushAudio().
      for (const chunk of this.#buffer.chunks()) attempt.write(chunk);
      if (this.#inputEnded) attempt.endInput();
      this.observer.safeEmit('attempt', { workerId: worker.id, attempt: this.#attempts });
      if (previous) {
        const abandonedSegments = [...this.#openSegments];
        this.#openSegments.clear();
        const info: FailoverInfo = {
          from: previous.worker.id,
          to: worker.id,
          reason: this.#lastFailure,
          replayedMs: (this.#buffer.endByte - this.#buffer.startByte) / BYTES_PER_MS,
          abandonedSegments,
          switchMs: performance.now() - failedAt,
        };
        this.#log.info(info, 'failed over to another worker');
        this.safeEmit('failover', info);
      }
    })()
      .catch((err: unknown) => {
        if (this.#closed) return;
        this.#shutdown(
          new UnavailableError(
            `no speech-to-text worker for "${this.#language}" became available within ${this.#workerWaitMs} ms`,
            err,
          ),
        );
      })
      .finally(() => {
        this.#connecting = undefined;
      });
  }

  #lastFailure = '';

  /** `code`: the failed call's status, 'expired' when the registry dropped its worker, 'ended' when it ended early. */
  #failover(attempt: RecognizeAttempt, err: PolyglotError, code: grpc.status | 'expired' | 'ended'): void {
    if (this.#closed || attempt !== this.#attempt) return;
    attempt.cancel();
    this.#registry.release(attempt.worker.id);
    if (typeof code === 'number' && !FAILOVER_CODES.has(code)) {
      this.#shutdown(err);
      return;
    }
    const reason = typeof code === 'number' ? grpc.status[code] : code;
    // Rotation (OUT_OF_RANGE, an early end) is the worker's limit, not its failure.
    if (code !== grpc.status.OUT_OF_RANGE && code !== 'ended') {
      this.#registry.reportFailure(attempt.worker.id);
      if (++this.#failoversInRow > this.#maxFailoversInRow) {
        this.#shutdown(new UnavailableError(`${this.#failoversInRow - 1} failovers in a row without a final; giving up`, err));
        return;
      }
    }
    this.#lastFailure = reason;
    this.#log.warn({ workerId: attempt.worker.id, reason, err }, 'speech worker failed; failing over');
    this.#connect();
  }

  #onEvent(attempt: RecognizeAttempt, event: RecognitionEvent__Output): void {
    if (attempt !== this.#attempt) return;
    const baseMs = attempt.baseByte / BYTES_PER_MS;
    const segmentId = `${this.#attempts}-${event.segmentId}`;
    const result: SpeechResult = {
      segmentId,
      isFinal: event.isFinal,
      text: event.text,
      confidence: event.confidence,
      startMs: baseMs + event.startMs,
      endMs: baseMs + event.endMs,
      words: event.words.map((w) => ({ word: w.word, startMs: baseMs + w.startMs, endMs: baseMs + w.endMs, confidence: w.confidence })),
      engine: event.engine,
      workerId: attempt.worker.id,
    };
    if (event.isFinal) {
      this.#openSegments.delete(segmentId);
      this.#failoversInRow = 0;
      // Audio up to the end of this final is settled: a failover from here on replays only what follows.
      this.#buffer.trimBefore(attempt.baseByte + event.endMs * BYTES_PER_MS);
    } else {
      this.#openSegments.add(segmentId);
    }
    this.#results.push(result);
  }

  #onEnd(attempt: RecognizeAttempt): void {
    if (attempt !== this.#attempt) return;
    if (!this.#inputEnded) {
      // A worker may end a stream early (rotation); the audio after its last final goes to the next.
      this.#failover(attempt, new UnavailableError('the worker ended the stream before the input ended'), 'ended');
      return;
    }
    this.#registry.release(attempt.worker.id);
    this.#attempt = undefined;
    this.#shutdown(undefined);
  }

  #shutdown(err: PolyglotError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort(new CancelledError('stream closed'));
    this.#registry.off('workerRemoved', this.#onWorkerRemoved);
    if (this.#attempt) {
      this.#attempt.cancel();
      this.#registry.release(this.#attempt.worker.id);
    }
    this.#attempt = undefined;
    if (err) {
      this.#log.warn({ err }, 'speech stream failed');
      this.#results.fail(err);
    } else this.#results.end();
    this.observer.safeEmit('close');
  }
}

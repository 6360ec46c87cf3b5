import { WebSocket } from 'ws';
import type { SafeEmitter } from '../../core/src/events.js';
import type { CaptionObserverEvents } from './CaptionChannel.js';
import type { CaptionFrame } from './captionFrame.js';

/**
 * Per-socket caption queue. Policy when a socket reads more slowly than captions arrive:
 * - while ws holds fewer than `highWaterBytes` unsent bytes, frames are written at once;
 * - beyond that they wait here: every final, in order, and only the latest interim of each
 *   segment (an older one is dropped, and so is the oldest segment's beyond `maxQueuedInterims`);
 *   a final drops the interims it supersedes;
 * - finals are never dropped: once more than `maxQueuedFinals` wait, the socket is cut off
 *   (close 4408) and the client reconnects and resumes from its last seq, from JetStream.
 */
export interface CaptionQueueLimits {
  highWaterBytes: number;
  maxQueuedFinals: number;
  maxQueuedInterims: number;
}

export const DEFAULT_CAPTION_QUEUE_LIMITS: CaptionQueueLimits = {
  // One TCP window's worth: a reader keeping up never has this much in flight.
  highWaterBytes: 64 * 1024,
  // Finals come every few seconds per language: 64 waiting means the reader is minutes behind.
  maxQueuedFinals: 64,
  maxQueuedInterims: 4,
};

export interface CaptionSinkOptions {
  ws: WebSocket;
  limits: CaptionQueueLimits;
  observer: SafeEmitter<CaptionObserverEvents>;
  /** The final backlog passed the bound; the owner closes the socket (SlowConsumerError). */
  onOverflow: (queuedFinals: number) => void;
}

const TEXT_FRAME = { binary: false } as const;

/**
 * The caption side of one socket: the frames of its language go through here, so the socket's
 * backlog, its seq dedupe and the drop policy above live in one place. It is written to by one
 * CaptionChannel at a time (the room moves it on setLanguage) and never sends anything else.
 */
export class CaptionSink {
  readonly #ws: WebSocket;
  readonly #limits: CaptionQueueLimits;
  readonly #observer: SafeEmitter<CaptionObserverEvents>;
  readonly #onOverflow: (queuedFinals: number) => void;
  readonly #finals: CaptionFrame[] = [];
  /** segment -> its latest interim, oldest segment first. */
  readonly #interims = new Map<string, CaptionFrame>();
  #waiters: Array<{ generation: number; resolve: (ok: boolean) => void }> = [];
  /** Our writes whose callback has not run yet: while one is out, a callback will come to flush. */
  #inFlight = 0;
  /** The highest final seq taken (written or queued) for the current language: dedupe and resume point. */
  #lastSeq = -1;
  #generation = 0;
  #closed = false;
  readonly #onWritten = (): void => {
    this.#inFlight -= 1;
    this.#flush();
  };

  constructor({ ws, limits, observer, onOverflow }: CaptionSinkOptions) {
    this.#ws = ws;
    this.#limits = limits;
    this.#observer = observer;
    this.#onOverflow = onOverflow;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Finals waiting in the queue (not yet handed to ws). */
  get queuedFinals(): number {
    return this.#finals.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Parent-only (CaptionChannel.attach): a new language or a resume point. Whatever waits is
   * dropped (it was for the previous language), and replays of the previous generation stop.
   */
  reset(afterSeq: number): number {
    this.#finals.length = 0;
    this.#interims.clear();
    this.#lastSeq = afterSeq;
    this.#generation += 1;
    this.#wake(false);
    return this.#generation;
  }

  deliverFinal(frame: CaptionFrame): void {
    if (this.#closed || frame.seq <= this.#lastSeq) return;
    this.#lastSeq = frame.seq;
    // Interims of this segment and older ones are superseded: showing them now would go backwards.
    for (const [segment, interim] of this.#interims) if (interim.seq <= frame.seq) this.#interims.delete(segment);
    if (this.#finals.length === 0 && this.#interims.size === 0 && this.#canWrite()) {
      this.#write(frame);
      return;
    }
    this.#finals.push(frame);
    if (this.#finals.length > this.#limits.maxQueuedFinals) {
      const queued = this.#finals.length;
      this.close();
      this.#observer.safeEmit('slowConsumer');
      this.#onOverflow(queued);
      return;
    }
    this.#flush();
  }

  deliverInterim(frame: CaptionFrame): void {
    // An interim for a final this socket already has is stale (interims travel on core NATS,
    // finals on JetStream, so the two can cross).
    if (this.#closed || frame.seq <= this.#lastSeq) return;
    if (this.#finals.length === 0 && this.#interims.size === 0 && this.#canWrite()) {
      this.#write(frame);
      return;
    }
    if (this.#interims.delete(frame.segment)) this.#observer.safeEmit('interimDropped');
    this.#interims.set(frame.segment, frame);
    if (this.#interims.size > this.#limits.maxQueuedInterims) {
      const oldest = this.#interims.keys().next();
      if (!oldest.done) this.#interims.delete(oldest.value);
      this.#observer.safeEmit('interimDropped');
    }
    this.#flush();
  }

  /**
   * A frame that is no caption but keeps its place among them (the captionsLive marker): queued
   * like a final, never dropped, no effect on the seq.
   */
  deliverInOrder(data: Buffer): void {
    if (this.#closed) return;
    const frame: CaptionFrame = { data, seq: this.#lastSeq, segment: '', final: true, publishedAt: 0, live: false };
    if (this.#finals.length === 0 && this.#interims.size === 0 && this.#canWrite()) this.#write(frame);
    else {
      this.#finals.push(frame);
      this.#flush();
    }
  }

  /**
   * Resolves true once nothing waits here and ws has room (flow control for replays, which must
   * not fill the queue), or false when `generation` is over (reset, close).
   */
  writable(generation: number): Promise<boolean> {
    if (this.#closed || generation !== this.#generation) return Promise.resolve(false);
    if (this.#idle()) return Promise.resolve(true);
    return new Promise((resolve) => this.#waiters.push({ generation, resolve }));
  }

  /** Stops writing and drops the queue (the socket is closing). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#finals.length = 0;
    this.#interims.clear();
    this.#wake(false);
  }

  #canWrite(): boolean {
    // With none of our writes out, no callback would come to flush the queue: write anyway (one
    // frame over the mark at most). Bytes queued by other sends (replies) count as well.
    return this.#inFlight === 0 || this.#ws.bufferedAmount < this.#limits.highWaterBytes;
  }

  #idle(): boolean {
    return this.#finals.length === 0 && this.#interims.size === 0 && this.#canWrite();
  }

  #write(frame: CaptionFrame): void {
    if (this.#ws.readyState !== WebSocket.OPEN) {
      this.close();
      return;
    }
    this.#inFlight += 1;
    this.#ws.send(frame.data, TEXT_FRAME, this.#onWritten);
    if (frame.live) this.#observer.safeEmit('written', frame.final, Date.now() - frame.publishedAt);
  }

  #flush(): void {
    if (this.#closed) return;
    while (this.#canWrite()) {
      let next = this.#finals.shift();
      if (next === undefined) {
        const first = this.#interims.entries().next();
        if (first.done) break;
        this.#interims.delete(first.value[0]);
        next = first.value[1];
      }
      this.#write(next);
      if (this.#closed) return;
    }
    if (this.#idle()) this.#wake(true);
  }

  #wake(ok: boolean): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve(ok && !this.#closed && w.generation === this.#generation);
  }
}

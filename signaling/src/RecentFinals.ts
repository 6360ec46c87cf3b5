import type { CaptionFrame } from './captionFrame.js';

/**
 * The latest finals of one channel as frames, with consecutive seqs, oldest first, at most `max`:
 * a socket that resumes close behind the live edge is served from here instead of JetStream. A gap
 * (a final that never reached this node) starts the run over, so what is kept never has a hole.
 */
export class RecentFinals {
  readonly #max: number;
  #frames: CaptionFrame[] = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) throw new TypeError(`max must be a non-negative integer, got ${max}`);
    this.#max = max;
  }

  /** Keeps `frame`, the newest final. */
  remember(frame: CaptionFrame): void {
    if (this.#max === 0) return;
    const last = this.#frames[this.#frames.length - 1];
    if (last !== undefined && frame.seq !== last.seq + 1) this.#frames = [];
    this.#frames.push(frame);
    if (this.#frames.length > this.#max) this.#frames.shift();
  }

  /** The frame of final `seq`, if it is kept. */
  get(seq: number): CaptionFrame | undefined {
    const first = this.#frames[0];
    return first === undefined ? undefined : this.#frames[seq - first.seq];
  }

  clear(): void {
    this.#frames = [];
  }
}

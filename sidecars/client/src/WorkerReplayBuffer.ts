/**
 * The audio of a speech stream that no final covers yet, addressed by absolute byte offsets from
 * the stream's first byte, bounded: beyond `maxBytes` the oldest audio goes (and is counted).
 */
export class WorkerReplayBuffer {
  readonly #maxBytes: number;
  readonly #chunks: Buffer[] = [];
  /** Absolute offset of the first byte held. */
  #start = 0;
  #held = 0;
  #droppedBytes = 0;

  constructor(maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 2) throw new TypeError(`WorkerReplayBuffer: maxBytes must be an integer >= 2 (got ${maxBytes})`);
    this.#maxBytes = maxBytes;
  }

  /** Absolute offset of the first byte held: where a replay starts. */
  get startByte(): number {
    return this.#start;
  }

  /** Absolute offset just past the last byte appended. */
  get endByte(): number {
    return this.#start + this.#held;
  }

  /** Bytes dropped because the buffer was full, since the stream began. */
  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  append(pcm: Buffer): void {
    if (pcm.length === 0) return;
    this.#chunks.push(pcm);
    this.#held += pcm.length;
    const over = this.#held - this.#maxBytes;
    if (over > 0) {
      this.#droppedBytes += over;
      this.trimBefore(this.#start + over + (over % 2));
    }
  }

  /** Forgets everything before absolute offset `byte` (rounded down to a whole sample). */
  trimBefore(byte: number): void {
    let cut = Math.min(Math.floor(byte / 2) * 2, this.endByte) - this.#start;
    while (cut > 0) {
      const first = this.#chunks[0];
      if (!first) break;
      if (first.length <= cut) {
        this.#chunks.shift();
        cut -= first.length;
        this.#start += first.length;
        this.#held -= first.length;
      } else {
        this.#chunks[0] = first.subarray(cut);
        this.#start += cut;
        this.#held -= cut;
        cut = 0;
      }
    }
  }

  /** What is held, oldest first (shared slices; do not modify). */
  chunks(): readonly Buffer[] {
    return [...this.#chunks];
  }
}

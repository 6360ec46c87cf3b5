/** 16 kHz mono LINEAR16: 32 bytes per millisecond. */
export const BYTES_PER_MS = 32;

interface Chunk {
  /** Stream offset of the chunk's first sample, in bytes. */
  atByte: number;
  pcm: Buffer;
}

/**
 * The audio a replacement provider stream must hear again: every chunk since the end of the last
 * final, in the sizes it was pushed (each already within Google's 25 KB per request), with its
 * stream offset. Bounded by `maxMs`: past it the oldest chunks go (a stream that produced no final
 * for that long is silence or noise, and a rotation flushes the old stream anyway).
 */
export class ProviderReplayBuffer {
  readonly #maxBytes: number;
  #chunks: Chunk[] = [];
  #bytes = 0;
  #endByte = 0;

  constructor(maxMs: number) {
    if (!(maxMs > 0)) throw new TypeError(`maxMs must be positive (got ${maxMs})`);
    this.#maxBytes = maxMs * BYTES_PER_MS;
  }

  /** Stream offset, in ms, of the end of everything appended. */
  get endMs(): number {
    return this.#endByte / BYTES_PER_MS;
  }

  /** Stream offset, in ms, where the held audio starts (endMs when empty). */
  get startMs(): number {
    return (this.#chunks[0]?.atByte ?? this.#endByte) / BYTES_PER_MS;
  }

  append(pcm: Buffer): void {
    this.#chunks.push({ atByte: this.#endByte, pcm });
    this.#endByte += pcm.length;
    this.#bytes += pcm.length;
    while (this.#bytes > this.#maxBytes && this.#chunks.length > 1) this.#dropFirst();
  }

  /** Forgets chunks that end at or before `ms` (a chunk straddling `ms` is kept whole). */
  trimBefore(ms: number): void {
    const byte = ms * BYTES_PER_MS;
    while (this.#chunks[0] && this.#chunks[0].atByte + this.#chunks[0].pcm.length <= byte) this.#dropFirst();
  }

  chunks(): Buffer[] {
    return this.#chunks.map((c) => c.pcm);
  }

  #dropFirst(): void {
    const first = this.#chunks.shift();
    if (first) this.#bytes -= first.pcm.length;
  }
}

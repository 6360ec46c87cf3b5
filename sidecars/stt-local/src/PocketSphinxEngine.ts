import type { Logger } from 'pino';

import { QuotaExceededError, type SpeechEngine, type SpeechStream, type SpeechStreamConfig } from '../../sdk/src/index.js';
import { DecoderSlot } from './DecoderSlot.js';
import { PocketSphinxStream } from './PocketSphinxStream.js';

export interface PocketSphinxEngineOptions {
  /** pocketsphinx-en-us model directory; default the Debian package's. */
  modelDir?: string;
  /** Streams at once, one decoder thread (~70 MB) each; default 4. */
  maxStreams?: number;
  /** Decoder threads loaded at start, so the first streams do not wait ~0.3 s for a model; default 1. */
  warmDecoders?: number;
  /** Audio a stream holds for its decoder before dropping the oldest; default 120 000 (2 min). */
  maxPendingMs?: number;
  log: Logger;
}

export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/**
 * English speech-to-text with PocketSphinx, offline. Each stream decodes on a thread of its own
 * (a pool of at most maxStreams threads, kept for the next streams), with partial hypotheses as
 * interims and one final per utterance, as the decoder's voice activity detector cuts them.
 */
export class PocketSphinxEngine implements SpeechEngine {
  readonly name = 'pocketsphinx';
  readonly languages = ['en'];
  readonly maxStreams: number;
  readonly #modelDir: string;
  readonly #maxPendingMs: number;
  readonly #log: Logger;
  readonly #slots = new Set<DecoderSlot>();
  #nextStream = 1;
  #closed = false;

  private constructor(modelDir: string, maxStreams: number, maxPendingMs: number, log: Logger) {
    this.#modelDir = modelDir;
    this.maxStreams = maxStreams;
    this.#maxPendingMs = maxPendingMs;
    this.#log = log;
  }

  /** Loads `warmDecoders` decoders; rejects when the model or the library is missing. */
  static async start({ modelDir = DEFAULT_MODEL_DIR, maxStreams = 4, warmDecoders = 1, maxPendingMs = 120_000, log }: PocketSphinxEngineOptions): Promise<PocketSphinxEngine> {
    if (!Number.isInteger(maxStreams) || maxStreams < 1) throw new TypeError(`PocketSphinxEngine: maxStreams must be an integer >= 1 (got ${maxStreams})`);
    if (!Number.isInteger(warmDecoders) || warmDecoders < 0 || warmDecoders > maxStreams) {
      throw new TypeError(`PocketSphinxEngine: warmDecoders must be an integer from 0 to maxStreams (got ${warmDecoders})`);
    }
    const engine = new PocketSphinxEngine(modelDir, maxStreams, maxPendingMs, log.child({ engine: 'pocketsphinx' }));
    const warming = Array.from({ length: warmDecoders }, () => engine.#addSlot());
    try {
      await Promise.all(
        warming.map(
          (slot) =>
            new Promise<void>((resolve, reject) => {
              if (slot.state === 'idle') return resolve();
              slot.once('@idle', resolve);
              slot.once('dead', reject);
            }),
        ),
      );
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  /** Decoder threads alive (for tests and metrics). */
  get threads(): number {
    return this.#slots.size;
  }

  openStream(config: SpeechStreamConfig, signal: AbortSignal): SpeechStream {
    const slot = this.#freeSlot();
    const stream = new PocketSphinxStream({
      slot,
      config,
      log: this.#log.child({ stream: this.#nextStream++, sessionId: config.sessionId, trackId: config.trackId }),
      maxPendingMs: this.#maxPendingMs,
    });
    signal.addEventListener('abort', () => stream.close(), { once: true });
    return stream;
  }

  /** Ends every decoder thread; resolves once they exited. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const slots = [...this.#slots];
    this.#slots.clear();
    await Promise.all(slots.map((slot) => slot.close()));
  }

  /** An idle thread, else one still loading, else a new one: a stream never waits for another. */
  #freeSlot(): DecoderSlot {
    const free = [...this.#slots].filter((slot) => !slot.held && slot.state !== 'dead');
    const slot = free.find((s) => s.state === 'idle') ?? free[0];
    if (slot) return slot;
    if (this.#slots.size >= this.maxStreams) {
      throw new QuotaExceededError(`all ${this.maxStreams} PocketSphinx decoders are busy; retry on another worker`);
    }
    return this.#addSlot();
  }

  #addSlot(): DecoderSlot {
    const slot = new DecoderSlot(this.#modelDir, this.#log);
    this.#slots.add(slot);
    slot.once('dead', (err) => {
      this.#slots.delete(slot);
      if (!this.#closed) this.#log.warn({ err, slot: slot.id }, 'decoder thread gone; a new one starts with the next stream');
    });
    return slot;
  }
}

import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

import type { Logger } from 'pino';

import { SafeEmitter } from '../../sdk/src/index.js';
import { isFromDecoder, type FromDecoder, type ToDecoder } from './threadMessages.js';

export type DecoderSlotState = 'loading' | 'idle' | 'busy' | 'dead';

export type DecoderSlotEvents = {
  /** Every message of the thread while a stream holds the slot. */
  message: [FromDecoder];
  /** The thread is gone (crash or close()); a stream holding the slot must fail. */
  dead: [Error];
  /** For the pool: the slot can take a stream now. */
  '@idle': [];
};

// Under ts-node (tests, `npm run` from source) this module is a .ts file and so is the thread's.
const THREAD_URL = new URL(`./decoderThread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

let nextSlotId = 1;

/**
 * One decoder thread seen from the main thread: loads its decoder, serves one stream at a time
 * (busy), then loads a fresh decoder for the next one (loading -> idle).
 */
export class DecoderSlot extends SafeEmitter<DecoderSlotEvents> {
  readonly id = nextSlotId++;
  readonly #thread: Worker;
  readonly #log: Logger;
  #state: DecoderSlotState = 'loading';
  #held = false;
  #closing: Promise<void> | undefined;
  #exited = false;

  constructor(modelDir: string, log: Logger) {
    super(log);
    this.#log = log.child({ slot: this.id });
    this.#thread = new Worker(THREAD_URL, { workerData: { modelDir }, stdout: false, stderr: false });
    this.#thread.on('message', (message: unknown) => this.#onMessage(message));
    this.#thread.on('error', (err) => this.#die(err));
    this.#thread.on('exit', (code) => {
      this.#exited = true;
      this.#die(new Error(`decoder thread exited with code ${code}`));
    });
  }

  get state(): DecoderSlotState {
    return this.#state;
  }

  /** Whether a stream holds the slot (it may still be loading the decoder that stream will use). */
  get held(): boolean {
    return this.#held;
  }

  /** A stream takes the slot. Messages it posts wait in the thread's queue until the decoder is loaded. */
  acquire(): void {
    if (this.#held || this.#state === 'dead') throw new Error(`decoder slot ${this.id} is ${this.#held ? 'held' : 'dead'}`);
    this.#held = true;
    if (this.#state === 'idle') this.#state = 'busy';
  }

  /** The stream is done with the slot; the thread is loading a fresh decoder by now. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (this.#state === 'busy') this.#state = 'loading';
  }

  post(message: ToDecoder): void {
    if (this.#state === 'dead') return;
    // Audio buffers move to the thread instead of being copied.
    const buffer = message.type === 'audio' ? message.pcm.buffer : undefined;
    this.#thread.postMessage(message, buffer instanceof ArrayBuffer ? [buffer] : []);
  }

  /**
   * Ends the thread, idempotent. The thread is asked to exit after its current call into
   * PocketSphinx: worker.terminate() in the middle of a native call aborts the whole process.
   * terminate() is the fallback for a thread that does not exit within `graceMs`.
   */
  close(graceMs = 5_000): Promise<void> {
    this.#closing ??= (async () => {
      this.#die(new Error('decoder closed'));
      if (this.#exited) return;
      this.#thread.postMessage({ type: 'close' } satisfies ToDecoder);
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        once(this.#thread, 'exit').then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!exited) await this.#thread.terminate();
    })();
    return this.#closing;
  }

  #onMessage(message: unknown): void {
    if (!isFromDecoder(message)) {
      this.#log.error({ message }, 'unexpected message from the decoder thread');
      return;
    }
    if (message.type === 'ready') {
      if (this.#held) this.#state = 'busy';
      else {
        this.#state = 'idle';
        this.safeEmit('@idle');
      }
      return;
    }
    if (this.#state === 'loading') {
      // Loading a decoder failed: the thread cannot serve anyone.
      if (message.type === 'error') {
        this.#die(new Error(`decoder failed to load: ${message.message}`));
        void this.close();
      }
      // Anything else is from the stream before the last reset; every such message precedes 'ready'.
      return;
    }
    if (this.#held) this.safeEmit('message', message);
  }

  #die(err: Error): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    this.#held = false;
    this.safeEmit('dead', err);
  }
}

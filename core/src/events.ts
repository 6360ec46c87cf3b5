import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { moduleLog } from './log.js';

const log = moduleLog('events');

/** An event map: event name -> argument tuple. */
export type EventMap<T> = { [K in keyof T]: unknown[] };

/**
 * node:events EventEmitter typed by an event map, plus safeEmit(): a listener that throws is logged
 * (on the owner's logger when it passes one) and skipped, so a broken metrics hook cannot abort a
 * teardown cascade.
 */
export class SafeEmitter<T extends EventMap<T>> extends EventEmitter<T> {
  readonly #log: Logger;

  constructor(logger: Logger = log) {
    super();
    this.#log = logger;
  }

  safeEmit<K extends keyof T & string>(event: K, ...args: T[K]): boolean {
    try {
      // The untyped prototype method: node's typings resolve Args<K, T> only for a concrete T.
      return EventEmitter.prototype.emit.call(this, event, ...args);
    } catch (err) {
      this.#log.error({ err, event }, 'event listener threw');
      return true;
    }
  }
}

/**
 * events.once() with the map's types kept: resolves with the event's argument tuple, or rejects
 * with the signal's reason when `signal` aborts first.
 */
export function onceEvent<T extends EventMap<T>, K extends keyof T & string>(emitter: SafeEmitter<T>, event: K, signal?: AbortSignal): Promise<T[K]> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    // The untyped prototype methods, as in safeEmit(): the emitter only ever emits T[K] for K.
    const listener = (...args: unknown[]): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve(args as T[K]);
    };
    const onAbort = (): void => {
      EventEmitter.prototype.off.call(emitter, event, listener);
      reject(signal?.reason);
    };
    EventEmitter.prototype.once.call(emitter, event, listener);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

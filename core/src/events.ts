import { EventEmitter } from 'node:events';
import { moduleLog } from './log.js';

const log = moduleLog('events');

/** An event map: event name -> argument tuple. */
export type EventMap<T> = { [K in keyof T]: unknown[] };

/**
 * node:events EventEmitter typed by an event map, plus safeEmit(): a listener that throws is logged
 * and skipped, so a broken metrics hook cannot abort a teardown cascade.
 */
export class SafeEmitter<T extends EventMap<T>> extends EventEmitter<T> {
  safeEmit<K extends keyof T & string>(event: K, ...args: T[K]): boolean {
    try {
      // The untyped prototype method: node's typings resolve Args<K, T> only for a concrete T.
      return EventEmitter.prototype.emit.call(this, event, ...args);
    } catch (err) {
      log.error({ err, event }, 'event listener threw');
      return true;
    }
  }
}

/** events.once() with the map's types kept: resolves with the event's argument tuple. */
export function onceEvent<T extends EventMap<T>, K extends keyof T & string>(emitter: SafeEmitter<T>, event: K): Promise<T[K]> {
  return new Promise((resolve) => {
    EventEmitter.prototype.once.call(emitter, event, (...args: unknown[]) => resolve(args as T[K]));
  });
}

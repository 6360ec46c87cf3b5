import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';

import { WORKER_ANNOUNCE_SUBJECT } from '../../../core/src/subjects.js';
import { encodeWorkerMessage, TTL_INTERVALS, type WorkerAnnouncement, type WorkerKindName } from '../../../core/src/workers/workerMessage.js';

/** The parts of an announcement that change or that the worker knows; the announcer adds the rest. */
export type AnnouncementState = Omit<WorkerAnnouncement, 'v' | 'type' | 'ttlMs'>;

export interface RegistryAnnouncerOptions {
  nats: NatsConnection;
  intervalMs: number;
  /** Read at every announcement, so load and health are current. */
  state: () => AnnouncementState;
  log: Logger;
  subject?: string;
  /** Called after each published announcement (metrics). */
  onAnnounced?: () => void;
}

/**
 * Publishes the worker's announcement at once and then every `intervalMs`, with a TTL of three
 * intervals: a registry keeps the worker while announcements keep coming and forgets it after
 * the TTL (a crashed worker) or at once on its goodbye (a worker that shuts down).
 */
export class RegistryAnnouncer {
  readonly #nats: NatsConnection;
  readonly #intervalMs: number;
  readonly #state: () => AnnouncementState;
  readonly #log: Logger;
  readonly #subject: string;
  readonly #onAnnounced: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #announced = 0;

  constructor({ nats, intervalMs, state, log, subject = WORKER_ANNOUNCE_SUBJECT, onAnnounced }: RegistryAnnouncerOptions) {
    if (!Number.isInteger(intervalMs) || intervalMs < 10) {
      throw new TypeError(`RegistryAnnouncer: intervalMs must be an integer >= 10 (got ${intervalMs})`);
    }
    this.#nats = nats;
    this.#intervalMs = intervalMs;
    this.#state = state;
    this.#log = log;
    this.#subject = subject;
    this.#onAnnounced = onAnnounced;
  }

  get ttlMs(): number {
    return this.#intervalMs * TTL_INTERVALS;
  }

  /** Announcements published so far. */
  get announced(): number {
    return this.#announced;
  }

  start(): void {
    if (this.#stopped || this.#timer) return;
    this.announceNow();
    this.#timer = setInterval(() => this.announceNow(), this.#intervalMs);
  }

  /** Publishes the current state now (also called on a change of health, so routing reacts at once). */
  announceNow(): void {
    if (this.#stopped) return;
    try {
      this.#nats.publish(this.#subject, encodeWorkerMessage({ v: 1, type: 'announce', ttlMs: this.ttlMs, ...this.#state() }));
      this.#announced++;
      this.#onAnnounced?.();
    } catch (err) {
      // A closed or draining connection: the next tick retries; the registry's TTL covers the gap.
      this.#log.warn({ err }, 'announcement not published');
    }
  }

  /**
   * Stops announcing and publishes a goodbye, then flushes so that it reaches the server before
   * the caller closes the connection. Idempotent.
   */
  async stop(kind: WorkerKindName, id: string): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      this.#nats.publish(this.#subject, encodeWorkerMessage({ v: 1, type: 'goodbye', id, kind }));
      await this.#nats.flush();
    } catch (err) {
      this.#log.warn({ err }, 'goodbye not published; registries will drop this worker after its TTL');
    }
  }
}

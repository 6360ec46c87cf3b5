import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { acceptsPair } from '../../../proto/src/index.js';
import { WORKER_ANNOUNCE_SUBJECT } from '../subjects.js';
import { DEFAULT_ANNOUNCE_INTERVAL_MS, decodeWorkerMessage } from '../workers/workerMessage.js';

export interface OfferedLanguagesOptions {
  nc: NatsConnection;
  log: Logger;
  subject?: string;
  now?: () => number;
  /**
   * Until this long after start, every tag counts as offered: a node that just started has not
   * heard every worker's announcement yet, and viewers reconnecting to it must not be refused.
   */
  warmUpMs?: number;
}

/** Far more translation workers than a deployment runs: past it, announcements of new ids are ignored (memory stays bounded). */
const MAX_WORKERS = 4_096;

interface Offer {
  pairs: readonly { source: string; target: string }[];
  expiresAt: number;
}

/**
 * The translation pairs the language workers offer right now, from their registry announcements
 * (the same decoder as the caption pipeline's WorkerRegistry): what signaling checks a viewer's
 * language against. Held in memory and refreshed by the announcements themselves, so a check costs
 * no lookup; a worker that stops announcing drops out after its TTL, as in the registry.
 */
export class OfferedLanguages {
  readonly #offers = new Map<string, Offer>();
  readonly #subscription: Subscription;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #warmUntil: number;

  private constructor(opts: OfferedLanguagesOptions) {
    this.#log = opts.log.child({ module: 'OfferedLanguages' });
    this.#now = opts.now ?? Date.now;
    this.#warmUntil = this.#now() + (opts.warmUpMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS * 1.5);
    this.#subscription = opts.nc.subscribe(opts.subject ?? WORKER_ANNOUNCE_SUBJECT, {
      callback: (err, msg) => (err ? this.#log.warn({ err }, 'worker announcements subscription failed') : this.#onMessage(msg.data)),
    });
  }

  static async start(opts: OfferedLanguagesOptions): Promise<OfferedLanguages> {
    const offered = new OfferedLanguages(opts);
    await opts.nc.flush();
    return offered;
  }

  /** Whether some live translation worker translates `source` into `target` (or the node is still warming up). */
  offers(source: string, target: string): boolean {
    if (this.#now() < this.#warmUntil) return true;
    this.#sweep();
    for (const offer of this.#offers.values()) if (acceptsPair(offer.pairs, source, target)) return true;
    return false;
  }

  /** Forgets workers whose TTL passed without an announcement (crashed), as the registry does. */
  #sweep(): void {
    const now = this.#now();
    for (const [id, offer] of this.#offers) if (offer.expiresAt < now) this.#offers.delete(id);
  }

  #onMessage(data: Uint8Array): void {
    let message;
    try {
      message = decodeWorkerMessage(data);
    } catch (err) {
      this.#log.debug({ err }, 'worker announcement ignored');
      return;
    }
    if (message.kind !== 'TRANSLATION') return;
    if (message.type === 'goodbye') {
      this.#offers.delete(message.id);
      return;
    }
    if (!this.#offers.has(message.id) && this.#offers.size >= MAX_WORKERS) this.#sweep();
    if (!this.#offers.has(message.id) && this.#offers.size >= MAX_WORKERS) {
      this.#log.warn({ workerId: message.id, workers: this.#offers.size }, 'too many translation workers announced; ignoring a new one');
      return;
    }
    this.#offers.set(message.id, { pairs: message.pairs, expiresAt: this.#now() + message.ttlMs });
  }

  /** Idempotent. */
  close(): void {
    this.#subscription.unsubscribe();
  }
}

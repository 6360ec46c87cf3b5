import { setTimeout as delay } from 'node:timers/promises';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { encodeCaption, type CaptionEvent } from './CaptionEvent.js';
import { lastStoredFinal } from './lastStoredFinal.js';
import { captionMessageId, finalCaptionSubject, interimCaptionSubject, languageStatusSubject } from '../subjects.js';
import { encodeLanguageStatus, type UntranslatableReason } from './LanguageStatus.js';

export type UnsequencedCaption = Omit<CaptionEvent, 'seq' | 'publishedAt' | 'v'>;

/**
 * How long a final is retried before it is given up (a NATS restart, a JetStream leader change).
 * Must stay well inside the stream's duplicate window (DEFAULT_CAPTION_STREAM, 120 s): a retry is
 * stored once only because the server still remembers the message id.
 */
export const DEFAULT_FINAL_RETRY_MS = 60_000;

/**
 * Publishes one session's captions: finals on the JetStream stream with the next seq of their
 * language (and a message id, so a retried publish is stored once), interims on core NATS with
 * the seq their final will take. Seqs continue from the stream after a restart of this process,
 * so viewers resuming from a seq see neither a gap nor a repeat.
 */
export class CaptionPublisher {
  readonly session: string;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #log: Logger;
  /** lang -> next final seq, once read from the stream */
  readonly #nextSeq = new Map<string, Promise<number>>();
  /** lang -> the publish chain, so finals of a language are stored in seq order */
  readonly #chains = new Map<string, Promise<unknown>>();

  readonly #retryForMs: number;

  constructor(opts: { nc: NatsConnection; jsm: JetStreamManager; session: string; log: Logger; retryForMs?: number }) {
    this.session = opts.session;
    this.#retryForMs = opts.retryForMs ?? DEFAULT_FINAL_RETRY_MS;
    this.#nc = opts.nc;
    this.#js = opts.nc.jetstream();
    this.#jsm = opts.jsm;
    this.#log = opts.log;
  }

  #next(lang: string): Promise<number> {
    let next = this.#nextSeq.get(lang);
    if (!next) {
      next = lastStoredFinal(this.#jsm, this.session, lang).then((last) => (last?.caption.seq ?? 0) + 1);
      this.#nextSeq.set(lang, next);
      next.catch(() => this.#nextSeq.delete(lang)); // ask the stream again next time
    }
    return next;
  }

  /** The seq the next final of `lang` will carry (what its interims carry meanwhile). */
  async pendingSeq(lang: string): Promise<number> {
    return this.#next(lang);
  }

  publishInterim(lang: string, caption: UnsequencedCaption): Promise<void> {
    return this.#enqueue(lang, async () => {
      const seq = await this.#next(lang);
      this.#nc.publish(interimCaptionSubject(this.session, lang), encodeCaption({ v: 1, ...caption, lang, final: false, seq, publishedAt: Date.now() }));
    });
  }

  /**
   * Resolves with the final's seq once JetStream has stored it. A failed publish is retried with
   * the same seq and message id (stored once even if an earlier attempt was stored and only its
   * ack was lost) for up to retryForMs; later finals of the language wait behind it, in order.
   */
  publishFinal(lang: string, caption: UnsequencedCaption): Promise<number> {
    return this.#enqueue(lang, async () => {
      const deadline = Date.now() + this.#retryForMs;
      for (let backoffMs = 100; ; backoffMs = Math.min(backoffMs * 2, 2_000)) {
        try {
          const seq = await this.#next(lang);
          const event: CaptionEvent = { v: 1, ...caption, lang, final: true, seq, publishedAt: Date.now() };
          await this.#js.publish(finalCaptionSubject(this.session, lang), encodeCaption(event), { msgID: captionMessageId(this.session, lang, seq) });
          this.#nextSeq.set(lang, Promise.resolve(seq + 1));
          return seq;
        } catch (err) {
          if (Date.now() + backoffMs > deadline) {
            // Whether the last attempt was stored is unknown: the stream says where to go on.
            this.#nextSeq.delete(lang);
            throw err;
          }
          this.#log.debug({ err, lang, backoffMs }, 'final not stored yet; retrying');
          await delay(backoffMs);
        }
      }
    });
  }

  /** Tells the viewers of `lang` whether it is translated (core NATS, in order with its captions). */
  publishLanguageStatus(lang: string, status: { state: 'translating' } | { state: 'untranslatable'; reason: UntranslatableReason }): Promise<void> {
    return this.#enqueue(lang, async () => {
      this.#nc.publish(languageStatusSubject(this.session, lang), encodeLanguageStatus({ v: 1, session: this.session, lang, ...status, at: Date.now() }));
    });
  }

  #enqueue<T>(lang: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(lang) ?? Promise.resolve();
    const result = previous.then(work, work);
    this.#chains.set(
      lang,
      result.catch((err: unknown) => this.#log.warn({ err, lang }, 'caption publish failed')),
    );
    return result;
  }
}

import { setTimeout as delay } from 'node:timers/promises';
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { decodeCaption, type CaptionEvent } from '../../core/src/captions/CaptionEvent.js';
import { FinalCaptionFeed } from '../../core/src/captions/FinalCaptionFeed.js';
import { lastStoredFinal } from '../../core/src/captions/lastStoredFinal.js';
import { SafeEmitter } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import { interimCaptionSubject } from '../../core/src/subjects.js';
import type { CaptionObserverEvents } from './CaptionChannel.js';
import { encodeCaptionFrame, type CaptionFrame } from './captionFrame.js';
import { reconnectDelayMs, type ReconnectDelayOptions } from './reconnectDelay.js';
import { RecentFinals } from './RecentFinals.js';

const log = moduleLog('LiveCaptionFeed');

export interface LiveCaptionFeedOptions {
  nc: NatsConnection;
  session: string;
  lang: string;
  observer: SafeEmitter<CaptionObserverEvents>;
  /** Interims are decoded only while this says some socket reads live. */
  wantsInterims: () => boolean;
  /** Recent finals kept as frames, so a socket that resumes close behind the live edge is served from memory. */
  recentFinals?: number;
  /** Reopening the shared finals feed after a failure (no stream yet, NATS restarting). */
  retry?: ReconnectDelayOptions;
}

const DEFAULT_RECENT_FINALS = 256;
const DEFAULT_RETRY: ReconnectDelayOptions = { baseMs: 500, maxMs: 10_000 };

/** For the owner (CaptionChannel) only. */
export type LiveCaptionFeedEvents = {
  /** A live interim of this language, newer than every final delivered. */
  '@interim': [frame: CaptionFrame];
  /** The next live final (liveFromSeq is its seq already, and it is among the recent finals). */
  '@final': [frame: CaptionFrame];
  /** The feed's start was learned before its first final: it delivers every final after `seq`. */
  '@liveFrom': [seq: number];
};

/**
 * The live captions of one (session, language) on this node: one core NATS subscription for
 * interims and one JetStream feed for finals (new finals only, reopened with backoff from the last
 * one it delivered when it fails or ends), each caption encoded once into the frame every socket
 * gets, and the recent finals kept for resumes. Which sockets get what is CaptionChannel's job.
 */
export class LiveCaptionFeed extends SafeEmitter<LiveCaptionFeedEvents> {
  readonly session: string;
  readonly lang: string;
  readonly recent: RecentFinals;
  readonly #nc: NatsConnection;
  readonly #observer: SafeEmitter<CaptionObserverEvents>;
  readonly #wantsInterims: () => boolean;
  readonly #log: Logger;
  readonly #retry: ReconnectDelayOptions;
  /**
   * The shared feed delivers every final after this seq: the last one it delivered, or, before
   * that, the last one stored when it opened (-1: none). Unknown until the feed is open.
   */
  #liveFrom: number | undefined;
  readonly #interims: Subscription;
  #feed: FinalCaptionFeed | undefined;
  readonly #abort = new AbortController();
  readonly #tasks = new Set<Promise<void>>();
  #closed = false;

  constructor({ nc, session, lang, observer, wantsInterims, recentFinals = DEFAULT_RECENT_FINALS, retry = DEFAULT_RETRY }: LiveCaptionFeedOptions) {
    super();
    this.session = session;
    this.lang = lang;
    this.recent = new RecentFinals(recentFinals);
    this.#nc = nc;
    this.#observer = observer;
    this.#wantsInterims = wantsInterims;
    this.#retry = retry;
    this.#log = log.child({ sessionId: session, lang });
    this.#interims = nc.subscribe(interimCaptionSubject(session, lang), {
      callback: (err, msg) => (err ? this.#log.warn({ err }, 'interim subscription failed') : this.#onInterim(msg.data)),
    });
    this.#track(this.#run());
  }

  /** The shared feed delivers every final after this seq (undefined until it is open). */
  get liveFromSeq(): number | undefined {
    return this.#liveFrom;
  }

  /** Parent-only (the channel is closing). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#interims.unsubscribe();
    if (this.#feed) this.#track(this.#feed.close());
    this.recent.clear();
  }

  /** Resolves once the background work (the feed, its reopening) has ended; after close() it does. */
  async settled(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  #onInterim(data: Uint8Array): void {
    if (this.#closed || !this.#wantsInterims()) return;
    let event: CaptionEvent;
    try {
      event = decodeCaption(data);
    } catch (err) {
      this.#log.debug({ err }, 'malformed interim dropped');
      return;
    }
    // Finals travel only on JetStream; an interim whose final was delivered already is stale.
    if (event.final || event.session !== this.session || event.lang !== this.lang) return;
    if (this.#liveFrom !== undefined && event.seq <= this.#liveFrom) return;
    const frame = encodeCaptionFrame(event, true);
    this.#observer.safeEmit('encoded', false, 'live');
    this.safeEmit('@interim', frame);
  }

  #onFinal(event: CaptionEvent): void {
    if (this.#closed || (this.#liveFrom !== undefined && event.seq <= this.#liveFrom)) return;
    const frame = encodeCaptionFrame(event, true);
    this.#observer.safeEmit('encoded', true, 'live');
    this.recent.remember(frame);
    this.#liveFrom = event.seq;
    this.safeEmit('@final', frame);
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let attempt = 0;
    while (!this.#closed) {
      if (attempt > 0) {
        try {
          await delay(reconnectDelayMs(attempt - 1, this.#retry), undefined, { signal });
        } catch {
          return; // closed while waiting
        }
      }
      attempt += 1;
      let feed: FinalCaptionFeed;
      try {
        feed = await FinalCaptionFeed.open(this.#nc, this.session, this.lang, {
          // After a failure, continue from the last delivered final rather than from "now": no gap.
          ...(this.#liveFrom === undefined ? {} : { afterSeq: this.#liveFrom }),
          onMalformed: (err) => this.#log.warn({ err }, 'malformed final skipped'),
        });
      } catch (err) {
        if (!this.#closed) this.#log.warn({ err, attempt }, 'final caption feed unavailable; retrying');
        continue;
      }
      if (this.#closed) {
        this.#track(feed.close());
        return;
      }
      this.#feed = feed;
      if (this.#liveFrom === undefined) await this.#learnLiveFrom();
      if (this.#closed) return;
      this.#observer.safeEmit('liveFeed', this.session, this.lang);
      try {
        for await (const event of feed) {
          attempt = 0;
          this.#onFinal(event);
        }
        if (!this.#closed) this.#log.warn('final caption feed ended; reopening');
      } catch (err) {
        if (!this.#closed) this.#log.warn({ err }, 'final caption feed failed; reopening');
      } finally {
        this.#feed = undefined;
        this.#track(feed.close());
      }
    }
  }

  /**
   * With the shared feed's consumer in place, the last final stored before it is where the feed
   * takes over: a final stored later came after the consumer, so the feed delivers it. Telling the
   * channel now lets readers that are catching up go live at once, rather than at the next final
   * (in a quiet language they would otherwise miss its interims until then).
   */
  async #learnLiveFrom(): Promise<void> {
    let last: number;
    try {
      const jsm = await this.#nc.jetstreamManager({ checkAPI: false });
      last = (await lastStoredFinal(jsm, this.session, this.lang))?.caption.seq ?? -1;
    } catch (err) {
      // Not fatal: readers then hand over at the feed's first final.
      this.#log.warn({ err }, 'could not read the last stored final');
      return;
    }
    if (this.#closed || this.#liveFrom !== undefined) return;
    this.#liveFrom = last;
    this.safeEmit('@liveFrom', last);
  }

  /** Every background promise belongs to this feed: errors are logged, settled() awaits them. */
  #track(task: Promise<void>): void {
    const owned = task.catch((err: unknown) => this.#log.error({ err }, 'caption feed task failed'));
    this.#tasks.add(owned);
    void owned.finally(() => this.#tasks.delete(owned));
  }
}

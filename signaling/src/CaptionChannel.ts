import type { NatsConnection, Subscription } from 'nats';
import { decodeLanguageStatus } from '../../core/src/captions/LanguageStatus.js';
import { languageStatusSubject } from '../../core/src/subjects.js';
import type { Logger } from 'pino';
import { FinalCaptionFeed } from '../../core/src/captions/FinalCaptionFeed.js';
import type { SafeEmitter } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import { encodeCaptionFrame, encodeLanguageStatusFrame, encodeLiveMarker, type CaptionFrame } from './captionFrame.js';
import type { CaptionSink } from './CaptionSink.js';
import { LiveCaptionFeed } from './LiveCaptionFeed.js';
import type { ReconnectDelayOptions } from './reconnectDelay.js';

const log = moduleLog('CaptionChannel');

/** Node-wide caption monitoring (metrics.ts listens); never drives control flow. */
export type CaptionObserverEvents = {
  /** A caption became a frame: once per live caption per node; once per socket for a replayed final. */
  encoded: [final: boolean, source: 'live' | 'replay'];
  /** A live caption was handed to a socket, `delayMs` after the pipeline published it. */
  written: [final: boolean, delayMs: number];
  /** An interim waiting for a slow socket was replaced or evicted. */
  interimDropped: [];
  /** A socket's final backlog passed the bound; it is being closed (4408). */
  slowConsumer: [];
  /** A resuming socket's missed finals came from this node's memory or from JetStream. */
  replay: [from: 'memory' | 'stream'];
  /** Channels ((session, language) pairs with local readers) opened minus closed. */
  channel: [delta: 1 | -1];
  /**
   * A channel's shared finals feed is open: every final published from now on reaches its live
   * sockets (and its interim subscription is in place, as it was made first on the same connection).
   */
  liveFeed: [session: string, lang: string];
};

export interface CaptionChannelOptions {
  nc: NatsConnection;
  session: string;
  lang: string;
  observer: SafeEmitter<CaptionObserverEvents>;
  /** See LiveCaptionFeedOptions.recentFinals. */
  recentFinals?: number;
  /** See LiveCaptionFeedOptions.retry. */
  retry?: ReconnectDelayOptions;
}

type Reader = {
  sink: CaptionSink;
  /** The sink's generation this attachment is; a later reset ends it. */
  generation: number;
  mode: 'replay' | 'live' | 'detached';
  /** The replay's JetStream feed while it reads one. */
  feed: FinalCaptionFeed | undefined;
};

/**
 * The local sockets reading one (session, language), and what each gets. The captions come from
 * one LiveCaptionFeed, shared by every socket of that language: each caption is encoded once and
 * the same frame goes to every live socket.
 *
 * A socket that resumes (afterSeq) first catches up on its own, paced by its socket: from the
 * feed's recent finals when they reach back far enough, else from its own JetStream feed. It joins
 * the live sockets once it holds every final up to the point from which the shared feed is known to
 * deliver everything (the last final it delivered, or the last one stored when it opened), so the
 * shared feed brings all the rest; each sink drops a seq it already has, so the hand-over may
 * overlap but never leaves a gap. Readers get interims only once live.
 */
export class CaptionChannel {
  readonly session: string;
  readonly lang: string;
  readonly #nc: NatsConnection;
  readonly #observer: SafeEmitter<CaptionObserverEvents>;
  readonly #log: Logger;
  readonly #live = new Set<CaptionSink>();
  readonly #readers = new Map<CaptionSink, Reader>();
  readonly #replaying = new Set<Reader>();
  readonly #feed: LiveCaptionFeed;
  readonly #tasks = new Set<Promise<void>>();
  readonly #statusSub: Subscription;
  /** The pipeline's last word on this language ('translating' until it says otherwise), and its frame. */
  #status: { key: string; frame: Buffer | undefined } = { key: 'translating', frame: undefined };
  #closed = false;

  constructor({ nc, session, lang, observer, recentFinals, retry }: CaptionChannelOptions) {
    this.session = session;
    this.lang = lang;
    this.#nc = nc;
    this.#observer = observer;
    this.#log = log.child({ sessionId: session, lang });
    this.#feed = new LiveCaptionFeed({
      nc,
      session,
      lang,
      observer,
      wantsInterims: () => this.#live.size > 0,
      ...(recentFinals === undefined ? {} : { recentFinals }),
      ...(retry === undefined ? {} : { retry }),
    });
    this.#feed.on('@interim', (frame) => {
      for (const sink of this.#live) sink.deliverInterim(frame);
    });
    this.#feed.on('@final', (frame) => this.#onFinal(frame));
    this.#statusSub = nc.subscribe(languageStatusSubject(session, lang), {
      callback: (err, msg) => (err ? this.#log.warn({ err }, 'language status subscription failed') : this.#onStatus(msg.data)),
    });
    this.#feed.on('@liveFrom', (seq) => {
      for (const reader of [...this.#replaying]) if (reader.sink.lastSeq >= seq) this.#goLive(reader);
    });
    observer.safeEmit('channel', 1);
  }

  /** Sockets reading this channel (live or catching up). */
  get size(): number {
    return this.#readers.size;
  }

  /**
   * Starts writing this language to `sink`: live from now on when `afterSeq` is unset, else every
   * final after `afterSeq` first (-1: all of them), then live. Attaching an attached sink again
   * restarts it from the new afterSeq.
   */
  attach(sink: CaptionSink, afterSeq: number | undefined): void {
    if (this.#closed) return;
    this.detach(sink);
    const reader: Reader = { sink, generation: sink.reset(afterSeq ?? -1), mode: 'live', feed: undefined };
    this.#readers.set(sink, reader);
    const liveFrom = this.#feed.liveFromSeq;
    if (afterSeq === undefined || (liveFrom !== undefined && afterSeq >= liveFrom)) {
      this.#live.add(sink);
      sink.deliverInOrder(encodeLiveMarker(this.lang, sink.lastSeq));
      if (this.#status.frame) sink.deliverInOrder(this.#status.frame);
      return;
    }
    reader.mode = 'replay';
    this.#replaying.add(reader);
    this.#track(this.#catchUp(reader));
  }

  /** Stops writing to `sink` (it left, or moved to another language). Idempotent. */
  detach(sink: CaptionSink): void {
    const reader = this.#readers.get(sink);
    if (!reader) return;
    this.#readers.delete(sink);
    this.#live.delete(sink);
    this.#replaying.delete(reader);
    reader.mode = 'detached';
    this.#closeFeed(reader.feed);
  }

  /** Parent-only (the room, when the last reader left or the room closes). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#statusSub.unsubscribe();
    this.#feed.close();
    for (const sink of [...this.#readers.keys()]) this.detach(sink);
    this.#observer.safeEmit('channel', -1);
  }

  /** Resolves once every background task (live feed, replays) has ended; after close() they all do. */
  async settled(): Promise<void> {
    await this.#feed.settled();
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  /**
   * The pipeline repeats 'untranslatable' at every final the language misses: sockets hear of a
   * change once, and one that attaches later gets the current word with its live marker.
   */
  #onStatus(data: Uint8Array): void {
    const status = decodeLanguageStatus(data);
    if (this.#closed || !status || status.session !== this.session || status.lang !== this.lang) return;
    const key = status.state === 'untranslatable' ? `untranslatable:${status.reason ?? ''}` : 'translating';
    if (key === this.#status.key) return;
    const frame = encodeLanguageStatusFrame(status);
    this.#status = { key, frame: status.state === 'untranslatable' ? frame : undefined };
    for (const sink of this.#readers.keys()) sink.deliverInOrder(frame);
  }

  #onFinal(frame: CaptionFrame): void {
    // A replaying socket that holds everything before this final hands over to the shared feed now.
    for (const reader of this.#replaying) if (reader.sink.lastSeq >= frame.seq - 1) this.#goLive(reader);
    for (const sink of this.#live) sink.deliverFinal(frame);
  }

  #goLive(reader: Reader): void {
    if (reader.mode !== 'replay') return;
    reader.mode = 'live';
    this.#replaying.delete(reader);
    this.#live.add(reader.sink);
    this.#closeFeed(reader.feed);
    reader.sink.deliverInOrder(encodeLiveMarker(this.lang, reader.sink.lastSeq));
    if (this.#status.frame) reader.sink.deliverInOrder(this.#status.frame);
  }

  /** Brings a resuming socket up to the shared feed, paced by the socket (a replay never overflows it). */
  async #catchUp(reader: Reader): Promise<void> {
    const { sink, generation } = reader;
    const replaying = (): boolean => reader.mode === 'replay' && !this.#closed;
    const caughtUp = (): boolean => {
      const liveFrom = this.#feed.liveFromSeq;
      return liveFrom !== undefined && sink.lastSeq >= liveFrom;
    };
    // From memory while it reaches back far enough.
    let fromMemory = 0;
    for (;;) {
      if (!(await sink.writable(generation)) || !replaying()) return;
      if (caughtUp()) {
        if (fromMemory > 0) this.#observer.safeEmit('replay', 'memory');
        return this.#goLive(reader);
      }
      const frame = this.#feed.recent.get(sink.lastSeq + 1);
      if (frame === undefined) break;
      fromMemory += 1;
      sink.deliverFinal(frame);
    }
    if (fromMemory > 0) this.#observer.safeEmit('replay', 'memory');
    // Then from JetStream: this socket's own feed, from where it is.
    this.#observer.safeEmit('replay', 'stream');
    let feed: FinalCaptionFeed;
    try {
      feed = await FinalCaptionFeed.open(this.#nc, this.session, this.lang, {
        afterSeq: sink.lastSeq,
        onMalformed: (err) => this.#log.warn({ err }, 'malformed final skipped'),
      });
    } catch (err) {
      // Without JetStream there is nothing to replay from; live is the best left. The client
      // resumes again on its next reconnect.
      this.#log.warn({ err, afterSeq: sink.lastSeq }, 'replay unavailable; continuing live');
      this.#goLive(reader);
      return;
    }
    if (!replaying()) {
      this.#closeFeed(feed);
      return;
    }
    reader.feed = feed;
    try {
      for await (const event of feed) {
        if (!(await sink.writable(generation)) || !replaying()) break;
        sink.deliverFinal(encodeCaptionFrame(event, false));
        this.#observer.safeEmit('encoded', true, 'replay');
        if (caughtUp()) {
          this.#goLive(reader);
          break;
        }
      }
    } catch (err) {
      if (replaying()) {
        this.#log.warn({ err }, 'replay failed; continuing live');
        this.#goLive(reader);
      }
    } finally {
      if (reader.feed === feed) reader.feed = undefined;
      this.#closeFeed(feed);
    }
  }

  /** Ends a feed's iteration at once; deleting its server-side consumer is tracked like any task. */
  #closeFeed(feed: FinalCaptionFeed | undefined): void {
    if (feed) this.#track(feed.close());
  }

  /** Every background promise belongs to this channel: errors are logged, settled() awaits them. */
  #track(task: Promise<void>): void {
    const owned = task.catch((err: unknown) => this.#log.error({ err }, 'caption task failed'));
    this.#tasks.add(owned);
    void owned.finally(() => this.#tasks.delete(owned));
  }
}

import { setTimeout as delay } from 'node:timers/promises';
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { decodeCaption, type CaptionEvent } from '../../core/src/captions/CaptionEvent.js';
import { FinalCaptionFeed } from '../../core/src/captions/FinalCaptionFeed.js';
import { CAPTION_STREAM } from '../../core/src/captions/captionStream.js';
import { finalCaptionSubject, interimCaptionSubject } from '../../core/src/subjects.js';
import type { SafeEmitter } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import { reconnectDelayMs, type ReconnectDelayOptions } from './reconnectDelay.js';
import { encodeCaptionFrame, encodeLiveMarker, type CaptionFrame } from './captionFrame.js';
import type { CaptionSink } from './CaptionSink.js';

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
  /** Recent finals kept as frames, so a socket that resumes close behind the live edge is served from memory. */
  recentFinals?: number;
  /** Reopening the live feed after a failure (no stream yet, NATS restarting). */
  retry?: ReconnectDelayOptions;
}

export const DEFAULT_RECENT_FINALS = 256;
const DEFAULT_RETRY: ReconnectDelayOptions = { baseMs: 500, maxMs: 10_000 };

type Reader = {
  sink: CaptionSink;
  /** The sink's generation this attachment is; a later reset ends it. */
  generation: number;
  mode: 'replay' | 'live' | 'detached';
  /** The replay's JetStream feed while it reads one. */
  feed: FinalCaptionFeed | undefined;
};

/**
 * The captions of one (session, language) on this node: one core NATS subscription for interims
 * and one JetStream feed for finals, shared by every local socket of that language. Each caption
 * is encoded once and the same frame goes to every socket.
 *
 * A socket that resumes (afterSeq) first catches up on its own, paced by its socket: from the
 * recent finals kept here when they reach back far enough, else from its own JetStream feed. It
 * joins the shared feed once it holds every final up to the point from which that feed is known to
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
  readonly #recentMax: number;
  readonly #retry: ReconnectDelayOptions;
  readonly #readers = new Map<CaptionSink, Reader>();
  readonly #live = new Set<CaptionSink>();
  readonly #replaying = new Set<Reader>();
  /** Frames of the latest finals with consecutive seqs, oldest first. */
  #recent: CaptionFrame[] = [];
  /**
   * The shared feed delivers every final after this seq: the last one it delivered, or, before
   * that, the last one stored when it opened (-1: none). Unknown until the feed is open.
   */
  #liveFrom: number | undefined;
  readonly #interims: Subscription;
  #liveFeed: FinalCaptionFeed | undefined;
  readonly #abort = new AbortController();
  readonly #tasks = new Set<Promise<void>>();
  #closed = false;

  constructor({ nc, session, lang, observer, recentFinals = DEFAULT_RECENT_FINALS, retry = DEFAULT_RETRY }: CaptionChannelOptions) {
    this.session = session;
    this.lang = lang;
    this.#nc = nc;
    this.#observer = observer;
    this.#recentMax = recentFinals;
    this.#retry = retry;
    this.#log = log.child({ sessionId: session, lang });
    this.#interims = nc.subscribe(interimCaptionSubject(session, lang), {
      callback: (err, msg) => (err ? this.#log.warn({ err }, 'interim subscription failed') : this.#onInterim(msg.data)),
    });
    this.#track(this.#runLiveFeed());
    observer.safeEmit('channel', 1);
  }

  /** Sockets reading this channel (live or catching up). */
  get size(): number {
    return this.#readers.size;
  }

  /** The shared feed delivers every final after this seq (undefined until it is open). */
  get liveFromSeq(): number | undefined {
    return this.#liveFrom;
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
    if (afterSeq === undefined || (this.#liveFrom !== undefined && afterSeq >= this.#liveFrom)) {
      this.#live.add(sink);
      sink.deliverInOrder(encodeLiveMarker(this.lang, sink.lastSeq));
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
    this.#abort.abort();
    this.#interims.unsubscribe();
    this.#closeFeed(this.#liveFeed);
    for (const sink of [...this.#readers.keys()]) this.detach(sink);
    this.#recent = [];
    this.#observer.safeEmit('channel', -1);
  }

  /** Resolves once every background task (live feed, replays) has ended; after close() they all do. */
  async settled(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  #onInterim(data: Uint8Array): void {
    if (this.#closed || this.#live.size === 0) return;
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
    for (const sink of this.#live) sink.deliverInterim(frame);
  }

  #onFinal(event: CaptionEvent): void {
    if (this.#closed || (this.#liveFrom !== undefined && event.seq <= this.#liveFrom)) return;
    const frame = encodeCaptionFrame(event, true);
    this.#observer.safeEmit('encoded', true, 'live');
    this.#remember(frame);
    this.#liveFrom = event.seq;
    // A replaying socket that holds everything before this final hands over to the shared feed now.
    for (const reader of this.#replaying) if (reader.sink.lastSeq >= event.seq - 1) this.#goLive(reader);
    for (const sink of this.#live) sink.deliverFinal(frame);
  }

  #remember(frame: CaptionFrame): void {
    const last = this.#recent[this.#recent.length - 1];
    if (last !== undefined && frame.seq !== last.seq + 1) this.#recent = [];
    this.#recent.push(frame);
    if (this.#recent.length > this.#recentMax) this.#recent.shift();
  }

  #recentFrame(seq: number): CaptionFrame | undefined {
    const first = this.#recent[0];
    return first === undefined ? undefined : this.#recent[seq - first.seq];
  }

  #goLive(reader: Reader): void {
    if (reader.mode !== 'replay') return;
    reader.mode = 'live';
    this.#replaying.delete(reader);
    this.#live.add(reader.sink);
    this.#closeFeed(reader.feed);
    reader.sink.deliverInOrder(encodeLiveMarker(this.lang, reader.sink.lastSeq));
  }

  /**
   * The shared finals feed: new finals only. Reopened when it fails or ends (no stream yet, NATS
   * restarting), with backoff, from the last seq it delivered.
   */
  async #runLiveFeed(): Promise<void> {
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
        this.#closeFeed(feed);
        return;
      }
      this.#liveFeed = feed;
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
        this.#liveFeed = undefined;
        this.#closeFeed(feed);
      }
    }
  }

  /**
   * With the shared feed's consumer in place, the last final stored before it is where the feed
   * takes over: a final stored later came after the consumer, so the feed delivers it. Readers
   * catching up that hold everything up to it go live now, rather than at the next final (in a
   * quiet language they would otherwise miss its interims until then).
   */
  async #learnLiveFrom(): Promise<void> {
    let last: number;
    try {
      const stored = await (await this.#nc.jetstreamManager({ checkAPI: false })).streams.getMessage(CAPTION_STREAM, { last_by_subj: finalCaptionSubject(this.session, this.lang) });
      last = decodeCaption(stored.data).seq;
    } catch (err) {
      if (!(err instanceof Error && /no message found/i.test(err.message))) {
        // Not fatal: readers then hand over at the feed's first final.
        this.#log.warn({ err }, 'could not read the last stored final');
        return;
      }
      last = -1;
    }
    if (this.#closed || this.#liveFrom !== undefined) return;
    this.#liveFrom = last;
    for (const reader of [...this.#replaying]) if (reader.sink.lastSeq >= last) this.#goLive(reader);
  }

  /** Brings a resuming socket up to the shared feed, paced by the socket (a replay never overflows it). */
  async #catchUp(reader: Reader): Promise<void> {
    const { sink, generation } = reader;
    const replaying = (): boolean => reader.mode === 'replay' && !this.#closed;
    const caughtUp = (): boolean => this.#liveFrom !== undefined && sink.lastSeq >= this.#liveFrom;
    // From memory while it reaches back far enough.
    let fromMemory = 0;
    for (;;) {
      if (!(await sink.writable(generation)) || !replaying()) return;
      if (caughtUp()) {
        if (fromMemory > 0) this.#observer.safeEmit('replay', 'memory');
        return this.#goLive(reader);
      }
      const frame = this.#recentFrame(sink.lastSeq + 1);
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

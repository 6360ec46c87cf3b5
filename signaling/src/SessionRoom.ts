import type { Logger } from 'pino';
import type { NatsConnection, Subscription } from 'nats';
import { moduleLog } from '../../core/src/log.js';
import { PolyglotError } from '../../core/src/errors.js';
import type { SfuClient } from '../../core/src/sfu/SfuClient.js';
import { decodeSessionEvent, type RpcMethod, type RpcParams, type RpcResult, type SessionEvent } from '../../core/src/sfu/rpcProtocol.js';
import { sfuSessionEventsSubject } from '../../core/src/subjects.js';
import { CaptionChannel, type CaptionObserverEvents } from './CaptionChannel.js';
import type { CaptionSink } from './CaptionSink.js';
import { InvalidStateError } from '../../core/src/errors.js';
import { SafeEmitter } from '../../core/src/events.js';
import type { ServerMessage, ServerMessageOf } from './protocol.js';
import { sessionControlSubject } from '../../core/src/subjects.js';
import { decodeControlEvent } from './sessionControl.js';
import type { SfuNodeLossReason } from './SfuNodeWatch.js';
import { SessionAudience, type ViewerBoard, type ViewerCounts } from './SessionAudience.js';
import type { SessionStore } from './SessionStore.js';
import type { LanguagePolicy } from './LanguagePolicy.js';

const log = moduleLog('SessionRoom');

/** What a room needs from a socket (Connection implements it). */
export interface RoomMember {
  /** Also the member's SFU peer id. */
  readonly id: string;
  readonly isViewer: boolean;
  /** Hosts and speakers see the live viewer count. */
  readonly seesViewerCount: boolean;
  /** Joined the media path (wants producer announcements). */
  readonly inMedia: boolean;
  send(message: ServerMessage): void;
  /** The host ended the session: tell the client, then close (parent-only). */
  sessionEnded(reason: string): void;
  /** The media server dropped this member's transports: tell the client to join again (parent-only). */
  mediaReset(reason: string): void;
  /** Where this member's captions are written. */
  readonly captions: CaptionSink;
}

/**
 * The node's language demand (core's DemandBoard): which languages local sockets read, per session,
 * and the node's viewer counts.
 */
export interface LanguageDemand extends ViewerBoard {
  add(session: string, lang: string): void;
  remove(session: string, lang: string): void;
}

export interface SessionRoomOptions {
  sessionId: string;
  nc: NatsConnection;
  sfu: SfuClient;
  store: SessionStore;
  nodeId: string;
  demand: LanguageDemand;
  languages: LanguagePolicy;
  captionObserver: SafeEmitter<CaptionObserverEvents>;
}

export type SessionRoomEvents = {
  /** The last member left; the parent closes the room. */
  '@empty': [];
};

export type SessionRoomObserverEvents = {
  close: [];
  viewerCount: [count: number, byLanguage: Readonly<Record<string, number>>];
};

/**
 * One session's sockets on this node: the NATS subscriptions that session needs (SFU media events,
 * signaling control events), created with the first socket and dropped with the last, the SFU node
 * serving the session, its viewer counts over every signaling node (SessionAudience), pushed to
 * hosts and speakers, and one CaptionChannel per language some local socket reads, opened with
 * that language's first reader and closed with its last.
 */
export class SessionRoom extends SafeEmitter<SessionRoomEvents> {
  readonly id: string;
  readonly observer = new SafeEmitter<SessionRoomObserverEvents>();
  readonly #nc: NatsConnection;
  readonly #sfu: SfuClient;
  readonly #store: SessionStore;
  readonly #log: Logger;
  readonly #members = new Map<string, RoomMember>();
  readonly #subs: Subscription[];
  readonly #demand: LanguageDemand;
  readonly #languages: LanguagePolicy;
  readonly #captionObserver: SafeEmitter<CaptionObserverEvents>;
  readonly #channels = new Map<string, CaptionChannel>();
  /** Channels closed whose feeds are still shutting down. */
  readonly #closedChannels = new Set<CaptionChannel>();
  /** member id -> the caption language it reads */
  readonly #languageOf = new Map<string, string>();
  readonly #audience: SessionAudience;
  #placement: Promise<string> | undefined;
  /** The node #placement resolved to, once it has. */
  #placedNode: string | undefined;
  #ended = false;
  #closed = false;

  constructor({ sessionId, nc, sfu, store, nodeId, demand, languages, captionObserver }: SessionRoomOptions) {
    super();
    this.#demand = demand;
    this.#languages = languages;
    this.#captionObserver = captionObserver;
    this.id = sessionId;
    this.#nc = nc;
    this.#sfu = sfu;
    this.#store = store;
    this.#log = log.child({ sessionId });
    this.#audience = new SessionAudience({ nc, session: sessionId, nodeId, board: demand });
    this.#audience.on('change', (counts) => this.#pushViewerCount(counts));
    this.#subs = [
      nc.subscribe(sfuSessionEventsSubject(sessionId), { callback: (err, msg) => (err ? this.#log.warn({ err }, 'media events subscription failed') : this.#onMediaEvent(msg.data)) }),
      nc.subscribe(sessionControlSubject(sessionId), { callback: (err, msg) => (err ? this.#log.warn({ err }, 'control subscription failed') : this.#onControlEvent(msg.data)) }),
    ];
  }

  get size(): number {
    return this.#members.size;
  }

  channelsForTesting(): ReadonlyMap<string, CaptionChannel> {
    return this.#channels;
  }

  add(member: RoomMember): void {
    if (this.#closed) throw new InvalidStateError('the session is closing on this node; reconnect');
    this.#members.set(member.id, member);
    if (member.isViewer) this.#audience.setViewer(member.id, undefined);
    // Viewers do not see the counts, and a host or speaker joining changes none: tell just the newcomer.
    if (member.seesViewerCount) member.send(viewerCountMessage(this.#audience.counts));
  }

  remove(member: RoomMember): void {
    if (!this.#members.delete(member.id)) return;
    const lang = this.#languageOf.get(member.id);
    if (lang !== undefined) this.#leaveLanguage(member, lang);
    if (member.isViewer) this.#audience.removeViewer(member.id);
    if (this.#members.size === 0) this.emit('@empty');
  }

  /**
   * Throws LanguageRefusedError unless a member may read `lang` in this session (spoken in
   * `source`): a language the deployment serves, within the session's bound, counting the
   * languages read on every node.
   */
  admitLanguage(source: string, lang: string): void {
    this.#languages.check(source, lang, [...this.#channels.keys(), ...Object.keys(this.#audience.counts.byLanguage)]);
  }

  /**
   * The member reads captions in `lang` from now on, after a replay of the finals after `afterSeq`
   * (see CaptionChannel.attach). The previous language's captions stop at once; the node's demand
   * and the per-language counts follow.
   */
  setLanguage(member: RoomMember, lang: string, afterSeq: number | undefined): void {
    if (this.#closed) throw new InvalidStateError('the session is closing on this node; reconnect');
    if (!this.#members.has(member.id)) throw new InvalidStateError('not a member of this session');
    const previous = this.#languageOf.get(member.id);
    if (previous !== undefined && previous !== lang) this.#leaveLanguage(member, previous);
    let channel = this.#channels.get(lang);
    if (!channel) {
      channel = new CaptionChannel({ nc: this.#nc, session: this.id, lang, observer: this.#captionObserver });
      this.#channels.set(lang, channel);
    }
    channel.attach(member.captions, afterSeq);
    if (previous === lang) return;
    this.#languageOf.set(member.id, lang);
    this.#demand.add(this.id, lang);
    if (member.isViewer) this.#audience.setViewer(member.id, lang);
  }

  /** Resolves once the caption channels' and the audience's background work has ended (after close()). */
  async settled(): Promise<void> {
    await Promise.all([...[...this.#closedChannels].map((c) => c.settled()), this.#audience.settled()]);
  }

  #closeChannel(channel: CaptionChannel): void {
    channel.close();
    this.#closedChannels.add(channel);
    void channel.settled().finally(() => this.#closedChannels.delete(channel));
  }

  #leaveLanguage(member: RoomMember, lang: string): void {
    this.#languageOf.delete(member.id);
    const channel = this.#channels.get(lang);
    channel?.detach(member.captions);
    if (channel && channel.size === 0) {
      this.#channels.delete(lang);
      this.#closeChannel(channel);
    }
    this.#demand.remove(this.id, lang);
  }

  /**
   * One RPC to the SFU node serving this session. The node comes from placement, asked once and
   * remembered; an unavailable or silent node is forgotten, so the next call asks placement again.
   * Never retried here: produce and createWebRtcTransport are not idempotent, and the client
   * (which sees `unavailable` with a retry hint) reruns its media setup.
   */
  async sfuRequest<M extends RpcMethod>(method: M, params: RpcParams<M>): Promise<RpcResult<M>> {
    if (this.#closed) throw new InvalidStateError('the session is closing on this node; reconnect');
    const placement = (this.#placement ??= this.#sfu.place(this.id).then((r) => r.node));
    let node: string;
    try {
      node = await placement;
      if (this.#placement === placement) this.#placedNode = node;
    } catch (err) {
      if (this.#placement === placement) this.#placement = undefined;
      throw err;
    }
    try {
      return await this.#sfu.request(node, method, params);
    } catch (err) {
      if (PolyglotError.is(err) && err.retryable && this.#placement === placement) {
        this.#placement = undefined;
        this.#placedNode = undefined;
      }
      throw err;
    }
  }

  /**
   * Parent-only: an SFU node died without closing its sessions (SfuNodeWatch). If it served this
   * session, placement is asked again and every socket in media is told to set it up again.
   */
  sfuNodeLost(node: string, reason: SfuNodeLossReason): void {
    if (this.#closed || this.#placedNode !== node) return;
    this.#placement = undefined;
    this.#placedNode = undefined;
    this.#log.warn({ node, reason }, 'the SFU node of this session lost its media');
    const why = reason === 'restarted' ? 'media_server_restarted' : 'media_server_lost';
    for (const m of this.#members.values()) m.mediaReset(why);
  }

  /** Parent-only: the hub is closing this room (last member gone, or shutdown). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Tell the other nodes right away that our viewers are gone, rather than after the TTL.
    this.#audience.close();
    for (const sub of this.#subs) sub.unsubscribe();
    for (const channel of this.#channels.values()) this.#closeChannel(channel);
    // The members are going too (hub shutdown) or gone: the node's demand is withdrawn with them.
    for (const lang of this.#languageOf.values()) this.#demand.remove(this.id, lang);
    this.#channels.clear();
    this.#languageOf.clear();
    this.#members.clear();
    this.observer.safeEmit('close');
  }

  #onMediaEvent(data: Uint8Array): void {
    let event: SessionEvent;
    try {
      event = decodeSessionEvent(data);
    } catch (err) {
      this.#log.warn({ err }, 'undecodable media event dropped');
      return;
    }
    switch (event.type) {
      case 'producerAdded':
        for (const m of this.#members.values()) {
          if (m.inMedia && m.id !== event.peer) m.send({ type: 'producerAdded', producerId: event.producerId, kind: event.kind });
        }
        return;
      case 'producerClosed':
        for (const m of this.#members.values()) if (m.inMedia) m.send({ type: 'producerClosed', producerId: event.producerId });
        return;
      case 'peersDisconnected':
        for (const peer of event.peers) this.#members.get(peer)?.mediaReset(event.reason);
        return;
      case 'sessionClosed':
        // 'closed' only follows closeSession, which we call after ending the session: the `ended`
        // control event tells the members. Otherwise the media is gone but the session lives on.
        if (event.reason === 'closed' || this.#ended) return;
        this.#placement = undefined;
        this.#placedNode = undefined;
        for (const m of this.#members.values()) m.mediaReset(event.reason);
        return;
    }
  }

  /** The only control event is `ended`: the host ended the session (on any node). */
  #onControlEvent(data: Uint8Array): void {
    try {
      decodeControlEvent(data);
    } catch (err) {
      this.#log.warn({ err }, 'undecodable control event dropped');
      return;
    }
    this.#ended = true;
    this.#store.forget(this.id);
    for (const m of [...this.#members.values()]) m.sessionEnded('ended_by_host');
  }

  /** Tells hosts and speakers the session's new counts. */
  #pushViewerCount(counts: ViewerCounts): void {
    this.observer.safeEmit('viewerCount', counts.count, counts.byLanguage);
    const message = viewerCountMessage(counts);
    for (const m of this.#members.values()) if (m.seesViewerCount) m.send(message);
  }
}

function viewerCountMessage(counts: ViewerCounts): ServerMessageOf<'viewerCount'> {
  return { type: 'viewerCount', count: counts.count, byLanguage: counts.byLanguage };
}

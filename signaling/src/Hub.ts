import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import type { WebSocket } from 'ws';
import { DemandBoard } from '../../core/src/captions/DemandBoard.js';
import { moduleLog } from '../../core/src/log.js';
import type { SfuClient } from '../../core/src/sfu/SfuClient.js';
import type { CaptionObserverEvents } from './CaptionChannel.js';
import { CloseCode, type ErrorFrameCode } from './closeCodes.js';
import { Connection, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './Connection.js';
import { InvalidStateError } from '../../core/src/errors.js';
import { SafeEmitter } from '../../core/src/events.js';
import type { ClientMessage } from './protocol.js';
import type { AdmissionTicket } from './ConnectionAdmission.js';
import { SessionRoom } from './SessionRoom.js';
import { SfuNodeWatch } from './SfuNodeWatch.js';
import { LanguagePolicy } from './LanguagePolicy.js';
import { DEFAULT_LANGUAGE_LIMITS, type LanguageLimits } from '../../core/src/config.js';
import { OfferedLanguages } from '../../core/src/languages/OfferedLanguages.js';
import type { SessionStore } from './SessionStore.js';
import type { TokenVerifier } from './TokenVerifier.js';

const log = moduleLog('Hub');

export interface HubOptions {
  verifier: TokenVerifier;
  store: SessionStore;
  nc: NatsConnection;
  sfu: SfuClient;
  nodeId: string;
  limits?: Partial<ConnectionLimits>;
  /** Default: DEFAULT_LANGUAGE_LIMITS (the workers' offer, 16 per session). */
  languages?: LanguageLimits;
  /** See OfferedLanguagesOptions.warmUpMs. */
  languageOfferWarmUpMs?: number;
}

export type HubObserverEvents = {
  connectionOpened: [];
  connectionClosed: [code: number];
  authenticated: [role: string];
  message: [type: ClientMessage['type']];
  errorFrame: [code: ErrorFrameCode];
  /** A close we initiated (4401, 4429, ...). */
  closing: [code: number];
  rateLimited: [];
  rooms: [count: number];
};

/**
 * Every WebSocket of this node, and one SessionRoom per session that has sockets here. It owns the
 * connections' lifecycle (accept, goaway + drain on shutdown, close) and the node's language
 * demand board (open() before accepting sockets).
 */
export class Hub {
  readonly observer = new SafeEmitter<HubObserverEvents>();
  /** Caption fan-out monitoring of every room (metrics.ts); a separate emitter, as its events are per write. */
  readonly captionObserver = new SafeEmitter<CaptionObserverEvents>();
  readonly #opts: HubOptions;
  readonly #limits: ConnectionLimits;
  readonly #connections = new Map<string, Connection>();
  readonly #rooms = new Map<string, SessionRoom>();
  /** Rooms closed whose caption feeds are still shutting down. */
  readonly #closingRooms = new Set<SessionRoom>();
  #demand: DemandBoard | undefined;
  #sfuWatch: SfuNodeWatch | undefined;
  #offered: OfferedLanguages | undefined;
  #languages: LanguagePolicy | undefined;
  #demandClosed: Promise<void> | undefined;
  #draining = false;
  #closed = false;

  constructor(opts: HubOptions) {
    this.#opts = opts;
    this.#limits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.limits };
  }

  get nodeId(): string {
    return this.#opts.nodeId;
  }

  /** Open sockets, authenticated or not. */
  get size(): number {
    return this.#connections.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  roomsForTesting(): ReadonlyMap<string, SessionRoom> {
    return this.#rooms;
  }

  /** Opens the node's language demand board (a JetStream KV bucket). Before the first accept(). */
  async open(): Promise<void> {
    if (this.#closed) throw new InvalidStateError('hub closed');
    this.#demand ??= await DemandBoard.open(this.#opts.nc, this.#opts.nodeId, log);
    if (!this.#sfuWatch) {
      this.#sfuWatch = new SfuNodeWatch({ nc: this.#opts.nc });
      this.#sfuWatch.on('lost', (node, reason) => {
        for (const room of this.#rooms.values()) room.sfuNodeLost(node, reason);
      });
    }
    const limits = this.#opts.languages ?? DEFAULT_LANGUAGE_LIMITS;
    if (limits.allowed === undefined) this.#offered ??= await OfferedLanguages.start({
        nc: this.#opts.nc,
        log,
        ...(this.#opts.languageOfferWarmUpMs === undefined ? {} : { warmUpMs: this.#opts.languageOfferWarmUpMs }),
      });
    this.#languages ??= new LanguagePolicy({ limits, offered: this.#offered });
  }

  /**
   * Takes ownership of an upgraded socket. Its admission ticket (SignalingServer) is moved to the
   * authenticated count when its token is accepted, and released when it closes.
   */
  accept(ws: WebSocket, ticket?: AdmissionTicket): Connection {
    if (this.#closed) {
      ws.close(CloseCode.GoingAway, 'node shutting down');
      throw new InvalidStateError('hub closed');
    }
    const conn = new Connection({
      ws,
      id: randomUUID(),
      verifier: this.#opts.verifier,
      store: this.#opts.store,
      roomFor: (sessionId) => this.#roomFor(sessionId),
      limits: this.#limits,
      captionObserver: this.captionObserver,
      ...(ticket ? { admit: () => ticket.authenticate() } : {}),
    });
    this.#connections.set(conn.id, conn);
    conn.observer.on('message', (type) => this.observer.safeEmit('message', type));
    conn.observer.on('errorFrame', (code) => this.observer.safeEmit('errorFrame', code));
    conn.observer.on('closing', (code) => this.observer.safeEmit('closing', code));
    conn.observer.on('rateLimited', () => this.observer.safeEmit('rateLimited'));
    conn.observer.on('authenticated', (p) => this.observer.safeEmit('authenticated', p.role));
    conn.once('@close', (code) => {
      ticket?.release();
      this.#connections.delete(conn.id);
      this.observer.safeEmit('connectionClosed', code);
    });
    this.observer.safeEmit('connectionOpened');
    return conn;
  }

  /**
   * Graceful shutdown: every socket gets `goaway` with a reconnect hint spread over
   * [0, reconnectSpreadMs) (so clients do not all land on the other nodes at once); sockets that
   * are still open after timeoutMs are closed with 1001, and terminated if they do not answer
   * the close within closeGraceMs. Resolves when every socket is gone and its media released.
   */
  async drain({ timeoutMs, reconnectSpreadMs, closeGraceMs = 2_000 }: { timeoutMs: number; reconnectSpreadMs: number; closeGraceMs?: number }): Promise<void> {
    this.#draining = true;
    const open = [...this.#connections.values()];
    log.info({ sockets: open.length, timeoutMs }, 'draining');
    for (const conn of open) conn.goaway(Math.floor(Math.random() * reconnectSpreadMs));
    const allClosed = Promise.all(open.map((c) => c.closed));
    if (await settlesWithin(allClosed, timeoutMs)) return;
    const stragglers = [...this.#connections.values()];
    log.info({ sockets: stragglers.length }, 'drain deadline: closing remaining sockets');
    for (const conn of stragglers) conn.close(CloseCode.GoingAway, 'node shutting down');
    if (await settlesWithin(allClosed, closeGraceMs)) return;
    for (const conn of this.#connections.values()) conn.terminate();
    await allClosed;
  }

  /** Closes every socket (1001) and room at once. Idempotent; closed() waits for the sockets. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Withdraw the node's demand in one delete per session first: the sockets leaving below then
    // cost no demand write each (DemandBoard writes on every add and remove).
    this.#demandClosed = this.#demand?.close();
    this.#sfuWatch?.close();
    this.#offered?.close();
    for (const conn of this.#connections.values()) conn.close(CloseCode.GoingAway, 'node shutting down');
    for (const room of this.#rooms.values()) this.#closeRoom(room);
    this.#rooms.clear();
  }

  /**
   * Resolves once every socket is gone (those that do not finish the close handshake within graceMs
   * are terminated), the caption feeds are closed and the node's demand is withdrawn.
   */
  async closed(graceMs = 2_000): Promise<void> {
    const all = Promise.all([...this.#connections.values()].map((c) => c.closed));
    if (!(await settlesWithin(all, graceMs))) {
      for (const conn of this.#connections.values()) conn.terminate();
      await all;
    }
    await Promise.all([...this.#closingRooms].map((r) => r.settled()));
    await (this.#demandClosed ?? this.#demand?.close());
  }

  #closeRoom(room: SessionRoom): void {
    room.close();
    this.#closingRooms.add(room);
    void room.settled().finally(() => this.#closingRooms.delete(room));
  }

  #roomFor(sessionId: string): SessionRoom {
    let room = this.#rooms.get(sessionId);
    if (room) return room;
    if (!this.#demand || !this.#languages) throw new InvalidStateError('hub not open');
    room = new SessionRoom({
      demand: this.#demand,
      languages: this.#languages,
      captionObserver: this.captionObserver,
      sessionId,
      nc: this.#opts.nc,
      sfu: this.#opts.sfu,
      store: this.#opts.store,
      nodeId: this.#opts.nodeId,
    });
    const created = room;
    created.once('@empty', () => {
      this.#closeRoom(created);
      if (this.#rooms.get(sessionId) === created) this.#rooms.delete(sessionId);
      this.observer.safeEmit('rooms', this.#rooms.size);
    });
    this.#rooms.set(sessionId, created);
    this.observer.safeEmit('rooms', this.#rooms.size);
    return created;
  }
}

/** True if `promise` settles within `ms`; the timer never outlives the wait. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

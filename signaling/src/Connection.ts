import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import { moduleLog } from '../../core/src/log.js';
import { tryCanonicalLanguageTag } from '../../core/src/languages/languageTag.js';
import type { CaptionObserverEvents } from './CaptionChannel.js';
import { CaptionSink, DEFAULT_CAPTION_QUEUE_LIMITS, type CaptionQueueLimits } from './CaptionSink.js';
import { CloseCode, socketFailureFor, type CloseCodeValue, type ErrorFrameCode } from './closeCodes.js';
import { InvalidStateError, NotFoundError, QuotaExceededError, UnauthenticatedError } from '../../core/src/errors.js';
import { BadRequestError, FloodError, OtherOrganizationError, RefreshMismatchError, SessionEndedError, SlowConsumerError, TokenRefusedError, TryAgainLaterError } from './errors.js';
import { SafeEmitter } from '../../core/src/events.js';
import { decodeClientMessage, MAX_MESSAGE_BYTES, type ClientMessage, type ClientMessageOf, type RequestId, type ServerMessage } from './protocol.js';
import { MediaRelay } from './MediaRelay.js';
import type { RoomMember, SessionRoom } from './SessionRoom.js';
import type { SessionInfo, SessionStore } from './SessionStore.js';
import { TokenBucket } from './TokenBucket.js';
import type { Principal, TokenVerifier } from './TokenVerifier.js';

const log = moduleLog('Connection');

/** The server messages that answer a request (they carry an optional `id`). */
type ReplyMessage = Extract<ServerMessage, { id?: RequestId | undefined }>;

export interface ConnectionLimits {
  /** The first message must be a valid `auth` within this, or the socket closes with 4401. */
  authTimeoutMs: number;
  /** Larger text frames get a `message_too_large` error frame. */
  maxMessageBytes: number;
  /** Token bucket per socket: `burst` messages at once, `perSecond` sustained. */
  rateLimit: { burst: number; perSecond: number; maxDropped: number };
  /** Requests queued behind a slow one (an SFU call) before further ones are refused. */
  maxPendingRequests: number;
  /** Unsent bytes a socket may hold before it is cut off as a slow consumer. */
  maxBufferedBytes: number;
  /** The caption queue of each socket and its drop policy (CaptionSink.ts). */
  captionQueue: CaptionQueueLimits;
  /**
   * A WebSocket ping every this often; a socket that has not answered the previous one by the next
   * is half-open (a vanished client, a dead NAT entry) and is dropped with its language demand.
   */
  pingIntervalMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  authTimeoutMs: 5_000,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  // A media setup is ~6 requests and a caption viewer sends almost nothing; 40 at once and 20/s
  // sustained leaves room for both, and a client that keeps going after 40 refusals is flooding.
  rateLimit: { burst: 40, perSecond: 20, maxDropped: 40 },
  maxPendingRequests: 32,
  maxBufferedBytes: 1024 * 1024,
  captionQueue: DEFAULT_CAPTION_QUEUE_LIMITS,
  pingIntervalMs: 20_000,
};

/** A socket authenticated on a full node is closed 1013 with this hint. */
const NODE_FULL_RETRY_AFTER_MS = 2_000;

/** Every this many bytes of a frame cost one more token, so big frames drain the bucket faster. */
const BYTES_PER_TOKEN = 16 * 1024;

export interface ConnectionOptions {
  ws: WebSocket;
  /** Unique per socket; also its SFU peer id. */
  id: string;
  verifier: TokenVerifier;
  store: SessionStore;
  /** The parent's room for a session (created on first use). */
  roomFor: (sessionId: string) => SessionRoom;
  limits: ConnectionLimits;
  captionObserver: SafeEmitter<CaptionObserverEvents>;
  /** Asked once the token is valid: false when the node has no room for one more authenticated socket. */
  admit?: () => boolean;
}

export type ConnectionEvents = {
  /** The socket is closed; the parent forgets it. */
  '@close': [code: number];
};

export type ConnectionObserverEvents = {
  message: [type: ClientMessage['type']];
  errorFrame: [code: ErrorFrameCode];
  authenticated: [principal: Principal];
  /** A close we initiated, and why. */
  closing: [code: number, reason: string];
  rateLimited: [];
  /** Terminated: no pong within pingIntervalMs. */
  halfOpen: [];
};

type Phase = 'auth' | 'open' | 'closed';

/**
 * One client WebSocket: authentication (a token in the first message, a deadline, expiry and
 * refresh), message decoding and rate limiting, replies and error frames. Once authenticated, its
 * media requests go to its MediaRelay and its caption language to its room. Requests are handled
 * one at a time, in order, so a client may pipeline them.
 */
export class Connection extends SafeEmitter<ConnectionEvents> implements RoomMember {
  readonly id: string;
  readonly observer = new SafeEmitter<ConnectionObserverEvents>();
  readonly captions: CaptionSink;
  /** Resolves once the socket is closed and its media released on the SFU. */
  readonly closed: Promise<void>;
  readonly #ws: WebSocket;
  readonly #verifier: TokenVerifier;
  readonly #store: SessionStore;
  readonly #roomFor: (sessionId: string) => SessionRoom;
  readonly #limits: ConnectionLimits;
  readonly #bucket: TokenBucket;
  #log: Logger;
  #phase: Phase = 'auth';
  #sawFirstFrame = false;
  #principal: Principal | undefined;
  #room: SessionRoom | undefined;
  #language: string | undefined;
  /** The session's spoken language, canonical; set once authenticated. */
  #sourceLanguage = '';
  /** Set once authenticated. */
  #media: MediaRelay | undefined;
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  #dropped = 0;
  #authTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;
  readonly #admit: () => boolean;
  #resolveClosed!: () => void;

  constructor({ ws, id, verifier, store, roomFor, limits, captionObserver, admit = () => true }: ConnectionOptions) {
    super();
    this.#admit = admit;
    this.id = id;
    this.#ws = ws;
    this.#verifier = verifier;
    this.#store = store;
    this.#roomFor = roomFor;
    this.#limits = limits;
    this.#bucket = new TokenBucket({ capacity: limits.rateLimit.burst, refillPerSecond: limits.rateLimit.perSecond });
    this.#log = log.child({ connectionId: id });
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.captions = new CaptionSink({
      ws,
      limits: limits.captionQueue,
      observer: captionObserver,
      onOverflow: (queued) => this.#fail(new SlowConsumerError(`${queued} final captions unread; reconnect and resume from your last seq`), undefined),
    });
    this.#authTimer = setTimeout(
      () => this.#fail(new TokenRefusedError(`no auth message within ${limits.authTimeoutMs} ms`, 'timeout'), undefined),
      limits.authTimeoutMs,
    );
    this.#pingTimer = setInterval(() => this.#ping(), limits.pingIntervalMs);
    ws.on('pong', () => (this.#awaitingPong = false));
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('close', (code) => this.#onSocketClosed(code));
    // 'error' precedes 'close' (a protocol violation, a reset); the close handler does the cleanup.
    ws.on('error', (err) => this.#log.debug({ err }, 'socket error'));
  }

  get principal(): Principal | undefined {
    return this.#principal;
  }

  get isViewer(): boolean {
    return this.#principal?.role === 'viewer';
  }

  get seesViewerCount(): boolean {
    return this.#principal !== undefined && this.#principal.role !== 'viewer';
  }

  get inMedia(): boolean {
    return this.#media?.inMedia ?? false;
  }

  /** The caption language this socket reads (setLanguage); undefined: none yet. */
  get language(): string | undefined {
    return this.#language;
  }

  /** Sends one message if the socket is open; cuts off a client that does not read. */
  send(message: ServerMessage): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    if (this.#ws.bufferedAmount > this.#limits.maxBufferedBytes) {
      this.#fail(new SlowConsumerError(`more than ${this.#limits.maxBufferedBytes} bytes unread`), undefined);
      return;
    }
    this.#ws.send(JSON.stringify(message));
  }

  /** Parent-only: this node is shutting down. The client should reconnect after about reconnectInMs. */
  goaway(reconnectInMs: number): void {
    if (this.#phase === 'open') this.send({ type: 'goaway', reason: 'node shutting down', reconnectInMs });
    else this.close(CloseCode.GoingAway, 'node shutting down');
  }

  sessionEnded(reason: string): void {
    if (this.#phase !== 'open') return;
    this.send({ type: 'sessionEnded', reason });
    this.close(CloseCode.SessionEnded, 'session ended');
  }

  mediaReset(reason: string): void {
    if (this.#media?.mediaReset()) this.send({ type: 'mediaReset', reason });
  }

  /**
   * Starts the closing handshake (idempotent). The socket is forgotten once the client answers, or
   * after ws's close timeout; terminate() ends it at once.
   */
  close(code: CloseCodeValue, reason: string): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#clearTimers();
    // Nothing more is written behind the close frame; what waits would be for a socket that is going.
    this.captions.close();
    this.observer.safeEmit('closing', code, reason);
    this.#ws.close(code, reason);
  }

  /** Drops the TCP connection without a closing handshake (drain deadline passed). */
  terminate(): void {
    this.#phase = 'closed';
    this.#clearTimers();
    this.captions.close();
    this.#ws.terminate();
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (this.#phase === 'closed') return;
    const size = byteLength(data);
    if (!this.#bucket.take(1 + Math.floor(size / BYTES_PER_TOKEN))) {
      this.#dropped += 1;
      this.observer.safeEmit('rateLimited');
      if (this.#dropped > this.#limits.rateLimit.maxDropped) {
        this.#fail(new FloodError(`kept sending after ${this.#limits.rateLimit.maxDropped} refused messages`), undefined);
      } else if (this.#dropped === 1) {
        // One notice per episode: answering every dropped frame would amplify the flood.
        this.#fail(new QuotaExceededError('too many messages; this and further messages are dropped until the limit refills', this.#bucket.msUntil(1)), undefined, 'open');
      }
      return;
    }
    this.#dropped = 0;
    const first = !this.#sawFirstFrame;
    this.#sawFirstFrame = true;
    if (isBinary) return this.#refuse(first, new BadRequestError('binary frames are not accepted; send JSON text', 'invalid_message'), undefined);
    if (size > this.#limits.maxMessageBytes) {
      return this.#refuse(first, new BadRequestError(`message of ${size} bytes exceeds ${this.#limits.maxMessageBytes}`, 'message_too_large'), undefined);
    }
    const decoded = decodeClientMessage(rawText(data));
    if (!decoded.ok) return this.#refuse(first, decoded.error, decoded.requestId);
    const message = decoded.message;
    if (first && message.type !== 'auth') {
      return this.#fail(new TokenRefusedError('the first message must be auth', 'not_first'), message.id);
    }
    if (this.#pending >= this.#limits.maxPendingRequests) {
      return this.#fail(new QuotaExceededError(`${this.#pending} requests already pending`, 1_000), message.id, 'open');
    }
    this.observer.safeEmit('message', message.type);
    this.#pending += 1;
    this.#queue = this.#queue.then(async () => {
      try {
        if (this.#phase !== 'closed') await this.#handle(message);
      } catch (err) {
        this.#fail(err, message.id);
      } finally {
        this.#pending -= 1;
      }
    });
  }

  /**
   * A frame that did not decode. As the first frame it ends the socket (4401); any later one, even
   * one pipelined behind an auth still being verified, gets an error frame.
   */
  #refuse(first: boolean, err: BadRequestError, id: RequestId | undefined): void {
    if (first) this.#fail(new TokenRefusedError(`the first message must be auth: ${err.message}`, 'not_first', err), id);
    else this.#fail(err, id, 'open');
  }

  async #handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'auth':
        return this.#auth(message);
      case 'refresh':
        return this.#refresh(message);
      case 'ping':
        return this.#reply(message, { type: 'pong' });
      case 'setLanguage':
        return this.#setLanguage(message);
      case 'join':
        return this.#join(message);
      case 'createTransport':
      case 'connectTransport':
      case 'produce':
      case 'consume':
      case 'resume':
      case 'leaveMedia':
        return this.#reply(message, await this.#requireMedia().handle(message));
    }
  }

  async #auth(message: ClientMessageOf<'auth'>): Promise<void> {
    if (this.#phase !== 'auth') throw new InvalidStateError('already authenticated; use refresh for a new token');
    const principal = await this.#verifier.verify(message.token);
    if (principal.session === undefined) throw new TokenRefusedError('the token names no session', 'claims');
    const session = await this.#store.lookup(principal.session);
    checkSessionAccess(principal, session);
    if (this.#phase !== 'auth') return; // closed (deadline, shutdown) while we were looking
    if (!this.#admit()) throw new TryAgainLaterError('this node is full; reconnect (another node may take you)', NODE_FULL_RETRY_AFTER_MS);
    clearTimeout(this.#authTimer);
    this.#principal = principal;
    this.#sourceLanguage = tryCanonicalLanguageTag(session.sourceLanguage) ?? session.sourceLanguage;
    this.#phase = 'open';
    this.#log = this.#log.child({ sessionId: principal.session, sub: principal.sub, role: principal.role });
    this.#armExpiry();
    this.#room = this.#roomFor(principal.session);
    this.#media = new MediaRelay({ peer: this.id, session: principal.session, canProduce: principal.role !== 'viewer', sfu: this.#room.sfuRequest.bind(this.#room) });
    this.#room.add(this);
    this.observer.safeEmit('authenticated', principal);
    this.#reply(message, {
      type: 'welcome',
      connectionId: this.id,
      session: { id: session.id, title: session.title, sourceLanguage: session.sourceLanguage, status: session.status },
      role: principal.role,
      sub: principal.sub,
      name: principal.name,
      expiresAt: principal.expiresAtMs,
      limits: { maxMessageBytes: this.#limits.maxMessageBytes },
    });
  }

  async #refresh(message: ClientMessageOf<'refresh'>): Promise<void> {
    const current = this.#requireOpen();
    let next: Principal;
    try {
      next = await this.#verifier.verify(message.token);
    } catch (err) {
      // A bad refresh token leaves the socket on its current, still valid, token.
      if (err instanceof UnauthenticatedError) throw new BadRequestError(`refresh token refused: ${err.message}`, 'invalid_token', err);
      throw err;
    }
    const differs = (['sub', 'org', 'session', 'role'] as const).filter((k) => next[k] !== current[k]);
    if (differs.length > 0) throw new RefreshMismatchError(`the refresh token's ${differs.join(', ')} differ from this socket's`);
    if (this.#phase !== 'open') return;
    this.#principal = next;
    this.#armExpiry();
    this.#reply(message, { type: 'refreshed', expiresAt: next.expiresAtMs });
  }

  #setLanguage(message: ClientMessageOf<'setLanguage'>): void {
    this.#requireOpen();
    const room = this.#room;
    if (!room) throw new InvalidStateError('not authenticated');
    if (message.language !== this.#language) room.admitLanguage(this.#sourceLanguage, message.language);
    // The reply goes first: the captions of the new language (a replay, maybe) follow it on the wire.
    this.#reply(message, { type: 'languageSet', language: message.language });
    room.setLanguage(this, message.language, message.afterSeq);
    this.#language = message.language;
  }

  async #join(message: ClientMessageOf<'join'>): Promise<void> {
    const principal = this.#requireOpen();
    const media = this.#requireMedia();
    // The cached lookup, so a join storm costs no query per socket; an ended session closes the socket.
    checkSessionAccess(principal, await this.#store.lookup(sessionOf(principal)));
    this.#reply(message, await media.join());
  }

  #requireOpen(): Principal {
    if (this.#phase !== 'open' || !this.#principal) throw new InvalidStateError('not authenticated');
    return this.#principal;
  }

  #requireMedia(): MediaRelay {
    this.#requireOpen();
    if (!this.#media) throw new InvalidStateError('not authenticated');
    return this.#media;
  }

  /** A reply carries the request's id, when it had one. */
  #reply(request: { id?: RequestId | undefined }, message: ReplyMessage): void {
    if (request.id !== undefined) message.id = request.id;
    this.send(message);
  }

  /** Reports an error as a frame, or closes the socket, as closeCodes.ts decides. */
  #fail(err: unknown, id: RequestId | undefined, phase: 'auth' | 'open' | undefined = undefined): void {
    if (this.#phase === 'closed') return;
    const failure = socketFailureFor(err, phase ?? this.#phase);
    if (failure.kind === 'close') {
      // A client's mistake is worth a line, not a stack trace; our own failure is worth both.
      if (failure.serverFault) this.#log.error({ err, closeCode: failure.code }, 'closing socket');
      else if (failure.detailHidden) this.#log.warn({ err, closeCode: failure.code }, 'closing socket: a dependency failed');
      else this.#log.info({ closeCode: failure.code, reason: failure.reason }, 'closing socket');
      this.close(failure.code, failure.reason);
      return;
    }
    if (failure.serverFault) this.#log.error({ err }, 'request failed');
    else if (failure.detailHidden) this.#log.warn({ err, code: failure.code }, 'request failed on a dependency');
    this.observer.safeEmit('errorFrame', failure.code);
    const frame: ServerMessage = { type: 'error', code: failure.code, message: failure.message };
    if (failure.retryAfterMs !== undefined) frame.retryAfterMs = failure.retryAfterMs;
    if (id !== undefined) frame.id = id;
    this.send(frame);
  }

  #armExpiry(): void {
    clearTimeout(this.#expiryTimer);
    const principal = this.#principal;
    if (!principal) return;
    // setTimeout holds at most 2^31-1 ms (~24.8 days); a longer token re-arms when that fires.
    const inMs = Math.min(principal.expiresAtMs - Date.now(), 2 ** 31 - 1);
    this.#expiryTimer = setTimeout(() => {
      if (Date.now() >= principal.expiresAtMs) this.#fail(new TokenRefusedError('token expired; refresh before exp', 'expired'), undefined);
      else this.#armExpiry();
    }, Math.max(0, inMs));
  }

  #clearTimers(): void {
    clearTimeout(this.#authTimer);
    clearTimeout(this.#expiryTimer);
    clearInterval(this.#pingTimer);
  }

  #ping(): void {
    if (this.#phase === 'closed') return;
    if (this.#awaitingPong) {
      this.#log.info({ pingIntervalMs: this.#limits.pingIntervalMs }, 'no pong: dropping a half-open socket');
      this.observer.safeEmit('halfOpen');
      this.terminate();
      return;
    }
    this.#awaitingPong = true;
    this.#ws.ping();
  }

  #onSocketClosed(code: number): void {
    this.#phase = 'closed';
    this.#clearTimers();
    this.captions.close();
    const room = this.#room;
    this.#room = undefined;
    // Release this peer's transports on the SFU. Started before leaving the room: the last member
    // leaving closes the room, which refuses new requests.
    const release = (this.#media?.release() ?? Promise.resolve()).catch((err: unknown) =>
      this.#log.warn({ err }, 'closePeer failed; the SFU reclaims the transports when the session closes'),
    );
    room?.remove(this);
    this.emit('@close', code);
    void release.finally(() => this.#resolveClosed());
  }
}

function sessionOf(principal: Principal): string {
  if (principal.session === undefined) throw new InvalidStateError('the token names no session');
  return principal.session;
}

/** The socket's token may open this session: it exists, it is its organization's, it has not ended. */
function checkSessionAccess(principal: Principal, session: SessionInfo | undefined): asserts session is SessionInfo {
  if (!session) throw new NotFoundError('no such session');
  if (session.organizationId !== principal.org) throw new OtherOrganizationError("the token's organization does not own this session");
  if (session.status === 'ended') throw new SessionEndedError('the session has ended');
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

import { QuotaExceededError } from '../../core/src/errors.js';
import { SafeEmitter } from '../../core/src/events.js';

/** The bounds one SFU process puts on client-created media (docs/configuration.md, "SFU"). */
export interface MediaLimits {
  sendTransportsPerPeer: number;
  recvTransportsPerPeer: number;
  consumersPerPeer: number;
  /** WebRTC and plain transports of one session, all peers together. */
  transportsPerSession: number;
  /** WebRTC and plain transports of this process: each holds one UDP port of the RTC range. */
  transportsPerNode: number;
}

export type MediaLimitName = 'send_transports_per_peer' | 'recv_transports_per_peer' | 'consumers_per_peer' | 'transports_per_session' | 'transports_per_node';

export const DEFAULT_SEND_TRANSPORTS_PER_PEER = 1;
export const DEFAULT_RECV_TRANSPORTS_PER_PEER = 2;
export const DEFAULT_CONSUMERS_PER_PEER = 32;
export const DEFAULT_TRANSPORTS_PER_SESSION = 5_000;
/** Share of the RTC port range left to pipe transports (viewer routers on other workers). */
const PIPE_PORT_SHARE = 0.1;
/**
 * A node that is full stays full until someone leaves: a hint of a few seconds, so a client backs
 * off instead of hammering, and placement may send the session elsewhere meanwhile.
 */
export const NODE_FULL_RETRY_AFTER_MS = 5_000;

/** The most transports the RTC port range can hold, leaving a share of it to pipe transports. */
export function transportsForPortRange(portRange: { min: number; max: number }): number {
  const ports = portRange.max - portRange.min + 1;
  return Math.max(1, Math.floor(ports * (1 - PIPE_PORT_SHARE)));
}

export function defaultMediaLimits(portRange: { min: number; max: number }): MediaLimits {
  return {
    sendTransportsPerPeer: DEFAULT_SEND_TRANSPORTS_PER_PEER,
    recvTransportsPerPeer: DEFAULT_RECV_TRANSPORTS_PER_PEER,
    consumersPerPeer: DEFAULT_CONSUMERS_PER_PEER,
    transportsPerSession: DEFAULT_TRANSPORTS_PER_SESSION,
    transportsPerNode: transportsForPortRange(portRange),
  };
}

/** Returned by a successful acquire; release() gives the slot back (idempotent). */
export interface MediaLease {
  release(): void;
}

export type MediaQuotaObserverEvents = {
  refused: [{ limit: MediaLimitName; session: string }];
};

interface PeerUsage {
  send: number;
  recv: number;
  consumers: number;
}

/**
 * Counts the media that clients make one SFU process create (WebRTC and plain transports, and
 * consumers on them) per peer, per session and per process, and refuses one more past a bound with
 * QuotaExceededError, before anything is created: what is already open is never touched. Shared by
 * every SessionMedia of the process. Server-side media (DirectTransports of the audio taps) uses no
 * port and is not counted.
 */
export class MediaQuota {
  readonly observer = new SafeEmitter<MediaQuotaObserverEvents>();
  readonly limits: Readonly<MediaLimits>;
  #nodeTransports = 0;
  readonly #sessionTransports = new Map<string, number>();
  /** `${session} ${peer}` -> usage. */
  readonly #peers = new Map<string, PeerUsage>();

  constructor(limits: MediaLimits) {
    for (const [key, value] of Object.entries(limits)) {
      if (!Number.isInteger(value) || value < 1) throw new TypeError(`media limit ${key} must be an integer >= 1, got ${value}`);
    }
    this.limits = Object.freeze({ ...limits });
  }

  /** Transports open on this process (the port-holding ones). */
  get transports(): number {
    return this.#nodeTransports;
  }

  /** A slot for one more transport of `peer`; throws QuotaExceededError past any bound. */
  acquireTransport(session: string, peer: string, direction: 'send' | 'recv'): MediaLease {
    const usage = this.#peer(session, peer);
    const sessionCount = this.#sessionTransports.get(session) ?? 0;
    if (direction === 'send' && usage.send >= this.limits.sendTransportsPerPeer) {
      this.#refuse('send_transports_per_peer', session, `a peer may have at most ${this.limits.sendTransportsPerPeer} send transport(s); close one first`);
    }
    if (direction === 'recv' && usage.recv >= this.limits.recvTransportsPerPeer) {
      this.#refuse('recv_transports_per_peer', session, `a peer may have at most ${this.limits.recvTransportsPerPeer} receive transport(s); close one first`);
    }
    if (sessionCount >= this.limits.transportsPerSession) {
      this.#refuse('transports_per_session', session, `the session has its maximum of ${this.limits.transportsPerSession} transports`, NODE_FULL_RETRY_AFTER_MS);
    }
    if (this.#nodeTransports >= this.limits.transportsPerNode) {
      this.#refuse('transports_per_node', session, 'this media server has no transport left; try again later', NODE_FULL_RETRY_AFTER_MS);
    }
    usage[direction] += 1;
    this.#keep(session, peer, usage);
    this.#sessionTransports.set(session, sessionCount + 1);
    this.#nodeTransports += 1;
    return this.#lease(() => {
      usage[direction] -= 1;
      this.#nodeTransports -= 1;
      const left = (this.#sessionTransports.get(session) ?? 1) - 1;
      if (left === 0) this.#sessionTransports.delete(session);
      else this.#sessionTransports.set(session, left);
      this.#forgetIfIdle(session, peer, usage);
    });
  }

  /** A slot for one more consumer of `peer`; throws QuotaExceededError past the bound. */
  acquireConsumer(session: string, peer: string): MediaLease {
    const usage = this.#peer(session, peer);
    if (usage.consumers >= this.limits.consumersPerPeer) {
      this.#refuse('consumers_per_peer', session, `a peer may have at most ${this.limits.consumersPerPeer} consumers; close one first`);
    }
    usage.consumers += 1;
    this.#keep(session, peer, usage);
    return this.#lease(() => {
      usage.consumers -= 1;
      this.#forgetIfIdle(session, peer, usage);
    });
  }

  /** The peer's usage; a new record is kept only once something is counted in it (#keep). */
  #peer(session: string, peer: string): PeerUsage {
    return this.#peers.get(`${session} ${peer}`) ?? { send: 0, recv: 0, consumers: 0 };
  }

  #keep(session: string, peer: string, usage: PeerUsage): void {
    this.#peers.set(`${session} ${peer}`, usage);
  }

  #forgetIfIdle(session: string, peer: string, usage: PeerUsage): void {
    const key = `${session} ${peer}`;
    if (usage.send === 0 && usage.recv === 0 && usage.consumers === 0 && this.#peers.get(key) === usage) this.#peers.delete(key);
  }

  #lease(release: () => void): MediaLease {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        release();
      },
    };
  }

  #refuse(limit: MediaLimitName, session: string, message: string, retryAfterMs?: number): never {
    this.observer.safeEmit('refused', { limit, session });
    throw new QuotaExceededError(message, retryAfterMs);
  }
}

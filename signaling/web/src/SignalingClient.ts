import { DEFAULT_RECONNECT_DELAY, reconnectDelayMs } from '../../src/reconnectDelay.js';
import { TERMINAL_CLOSE_CODES } from '../../src/closeCodes.js';
import { RequestError } from './RequestError.js';
import { decodeServerMessage, isServerMessageOf, type ClientMessage, type ServerMessage, type ServerMessageOf, type ServerMessageType } from '../../src/protocol.js';

/** A client message as the caller writes it; the client adds the request id. */
export type Outgoing = ClientMessage extends infer M ? (M extends ClientMessage ? Omit<M, 'id'> : never) : never;

export type SignalingClientEvents = {
  /** Each successful (re)connection: the session as it is now. */
  welcome: [ServerMessageOf<'welcome'>];
  /** A message that answers no request (caption, producerAdded, viewerCount, mediaReset, sessionEnded, goaway). */
  push: [ServerMessage];
  /** Connection state for the page to show. */
  status: [text: string];
  /** The client stopped for good: a terminal close code, the session ended, or stop(). */
  stopped: [info: { code: number; reason: string; sessionEnded: boolean }];
};

type Pending = { expect: ServerMessageType; resolve: (m: ServerMessage) => void; reject: (e: Error) => void };
type Listeners = { [K in keyof SignalingClientEvents]: Set<(...args: SignalingClientEvents[K]) => void> };

/**
 * The browser side of the signaling WebSocket: authenticates with the token as the first message
 * (never in the URL), matches replies to requests by id, and reconnects with exponential backoff
 * and full jitter, or after the hint of a `goaway`. It stops for good on 4401/4403/4404/4410.
 */
export class SignalingClient {
  readonly #url: string;
  readonly #token: string;
  readonly #listeners: Listeners = { welcome: new Set(), push: new Set(), status: new Set(), stopped: new Set() };
  readonly #pending = new Map<number, Pending>();
  #ws: WebSocket | undefined;
  #nextId = 1;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #sessionEnded = false;
  #stopped = false;

  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  on<K extends keyof SignalingClientEvents>(event: K, listener: (...args: SignalingClientEvents[K]) => void): void {
    this.#listeners[event].add(listener);
  }

  start(): void {
    if (this.#ws || this.#stopped) return;
    this.#connect();
  }

  /** Sends a request; resolves with the reply of type `expect`, rejects with RequestError. */
  request<T extends ServerMessageType>(message: Outgoing, expect: T): Promise<ServerMessageOf<T>> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new RequestError('unavailable', 'not connected'));
    const id = this.#nextId++;
    return new Promise<ServerMessageOf<T>>((resolve, reject) => {
      this.#pending.set(id, {
        expect,
        resolve: (m) => (isServerMessageOf(m, expect) ? resolve(m) : reject(new RequestError('internal', `expected ${expect}, got ${m.type}`))),
        reject,
      });
      ws.send(JSON.stringify({ ...message, id }));
    });
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    this.#ws?.close(1000, 'bye');
    this.#finish(1000, 'stopped');
  }

  #emit<K extends keyof SignalingClientEvents>(event: K, ...args: SignalingClientEvents[K]): void {
    for (const listener of this.#listeners[event]) {
      try {
        listener(...args);
      } catch (err) {
        console.error(`signaling ${event} listener failed`, err);
      }
    }
  }

  #connect(): void {
    this.#emit('status', this.#attempt === 0 ? 'connecting' : `reconnecting (attempt ${this.#attempt})`);
    const ws = new WebSocket(this.#url);
    this.#ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: this.#token }));
    ws.onmessage = (event) => this.#onMessage(ws, String(event.data));
    ws.onclose = (event) => this.#onClose(ws, event.code, event.reason);
  }

  #onMessage(ws: WebSocket, text: string): void {
    if (ws !== this.#ws) return;
    let message: ServerMessage;
    try {
      message = decodeServerMessage(text);
    } catch (err) {
      console.warn('undecodable server message dropped', err);
      return;
    }
    if (message.type === 'welcome') {
      this.#attempt = 0;
      this.#emit('status', 'connected');
      this.#emit('welcome', message);
      return;
    }
    const id = 'id' in message && typeof message.id === 'number' ? message.id : undefined;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (pending && id !== undefined) {
      this.#pending.delete(id);
      if (message.type === 'error') pending.reject(new RequestError(message.code, message.message, message.retryAfterMs));
      else pending.resolve(message);
      return;
    }
    if (message.type === 'sessionEnded') this.#sessionEnded = true;
    if (message.type === 'goaway') {
      // Leave when told, not all at once: the hint is spread by the server across its clients.
      this.#emit('status', `server restarting; moving in ${Math.round(message.reconnectInMs / 100) / 10} s`);
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = setTimeout(() => this.#reconnectNow(ws), message.reconnectInMs);
    }
    this.#emit('push', message);
  }

  /** Leaves a draining node: close it and connect again at once (the load balancer picks a live node). */
  #reconnectNow(ws: WebSocket): void {
    if (ws !== this.#ws || this.#stopped) return;
    this.#detach(ws, 'moved to another node');
    ws.close(1000, 'goaway');
    this.#connect();
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#detach(ws, `connection closed (${code})`);
    if (this.#stopped) return;
    if (this.#sessionEnded || TERMINAL_CLOSE_CODES.includes(code)) {
      this.#stopped = true;
      this.#finish(code, reason);
      return;
    }
    const delay = reconnectDelayMs(this.#attempt, DEFAULT_RECONNECT_DELAY);
    this.#attempt += 1;
    this.#emit('status', `disconnected (${code}); retrying in ${Math.round(delay / 100) / 10} s`);
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
  }

  #detach(ws: WebSocket, why: string): void {
    ws.onmessage = null;
    ws.onclose = null;
    if (this.#ws === ws) this.#ws = undefined;
    for (const p of this.#pending.values()) p.reject(new RequestError('unavailable', why));
    this.#pending.clear();
  }

  #finish(code: number, reason: string): void {
    this.#emit('status', this.#sessionEnded ? 'the session has ended' : `disconnected (${code} ${reason})`);
    this.#emit('stopped', { code, reason, sessionEnded: this.#sessionEnded });
  }
}

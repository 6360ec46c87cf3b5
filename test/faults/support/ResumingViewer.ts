import { setTimeout as delay } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { decodeServerMessage, type ServerMessage } from '../../../signaling/src/protocol.js';

export interface ResumingViewerOptions {
  /** Signaling nodes' WebSocket URLs; a reconnect moves to the next one (round robin). */
  urls: string[];
  /** Index in `urls` of the node to connect to first. */
  firstNode?: number;
  token: string;
  language: string;
  /** Longest outage a reconnect loop rides out before it gives up and records the failure. */
  giveUpAfterMs?: number;
}

/**
 * A captions-only viewer as the viewer page behaves: on a goaway or a lost socket it reconnects
 * (to the next node) with a growing backoff and resumes after the last final seq it holds. It
 * keeps every final it was sent, duplicates included, so a test can check "exactly once".
 */
export class ResumingViewer {
  /** Seqs of every final received, in arrival order (a duplicate shows twice). */
  readonly finals: number[] = [];
  /** Interims received (they are never resumed; only counted). */
  interims = 0;
  goaways = 0;
  /** Sockets opened and authenticated, the first included. */
  connections = 0;
  /** Codes of error frames received. */
  readonly errors: string[] = [];
  /** When each socket caught up (captionsLive), in ms since the epoch. */
  readonly liveAt: number[] = [];
  /** Reconnect attempts that failed, and the last reason. */
  failedAttempts = 0;
  lastAttemptError: string | undefined;
  /** Set when the viewer gave up reconnecting. */
  failure: Error | undefined;
  readonly #opts: Required<ResumingViewerOptions>;
  #node: number;
  #ws: WebSocket | undefined;
  #stopped = false;
  #live = false;
  #lastSeq = -1;
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  private constructor(opts: ResumingViewerOptions) {
    this.#opts = { firstNode: 0, giveUpAfterMs: 60_000, ...opts };
    this.#node = this.#opts.firstNode;
  }

  /** Resolves once the first socket is authenticated and has caught up (captionsLive). */
  static async start(opts: ResumingViewerOptions): Promise<ResumingViewer> {
    const viewer = new ResumingViewer(opts);
    await viewer.#connect();
    return viewer;
  }

  /** The node index the current socket is on. */
  get node(): number {
    return this.#node;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Caught up on the current socket (its captionsLive came). */
  get live(): boolean {
    return this.#live;
  }

  /** Resolves when `check` holds, rejects after `timeoutMs` (or when the viewer gave up). */
  until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`viewer timed out waiting until ${what} (last seq ${this.#lastSeq}, ${this.finals.length} finals)`));
      }, timeoutMs);
      const waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.push(waiter);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#ws?.terminate();
  }

  #notify(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }

  #connect(): Promise<void> {
    const url = this.#opts.urls[this.#node];
    if (url === undefined) throw new Error(`no node ${this.#node}`);
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url);
      this.#ws = ws;
      this.#live = false;
      let settled = false;
      let up = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        up = err === undefined;
        if (err) reject(err);
        else resolve();
      };
      ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: this.#opts.token })));
      ws.on('message', (data) => {
        const message = decodeServerMessage(String(data));
        this.#onMessage(ws, message);
        if (message.type === 'captionsLive') settle();
      });
      ws.on('error', (err) => settle(err));
      ws.on('unexpected-response', (_req, res) => {
        settle(new Error(`upgrade refused: ${res.statusCode}`));
        ws.terminate();
      });
      ws.on('close', (code) => {
        settle(new Error(`socket closed (${code}) before it caught up`));
        // A socket that never came up is the connecting loop's to retry, not this handler's.
        if (up && this.#ws === ws && !this.#stopped) void this.#reconnect();
      });
    });
  }

  #onMessage(ws: WebSocket, message: ServerMessage): void {
    switch (message.type) {
      case 'welcome':
        this.connections += 1;
        ws.send(JSON.stringify({ type: 'setLanguage', language: this.#opts.language, afterSeq: this.#lastSeq }));
        break;
      case 'caption':
        if (!message.final) {
          this.interims += 1;
          break;
        }
        this.finals.push(message.seq);
        this.#lastSeq = Math.max(this.#lastSeq, message.seq);
        this.#notify();
        break;
      case 'captionsLive':
        this.#live = true;
        this.liveAt.push(Date.now());
        this.#notify();
        break;
      case 'goaway':
        this.goaways += 1;
        // The node is leaving: go now rather than wait for its close, as the viewer page does.
        this.#ws = undefined;
        ws.close(1000);
        void this.#reconnect(message.reconnectInMs);
        break;
      case 'error':
        this.errors.push(message.code);
        break;
      default:
        break;
    }
  }

  async #reconnect(firstDelayMs = 0): Promise<void> {
    const deadline = Date.now() + this.#opts.giveUpAfterMs;
    let backoffMs = 100;
    await delay(firstDelayMs);
    while (!this.#stopped) {
      this.#node = (this.#node + 1) % this.#opts.urls.length;
      try {
        await this.#connect();
        return;
      } catch (err) {
        if (this.#stopped) return;
        this.failedAttempts += 1;
        this.lastAttemptError = err instanceof Error ? err.message : String(err);
        if (Date.now() > deadline) {
          this.failure = new Error(`gave up reconnecting after ${this.#opts.giveUpAfterMs} ms`, { cause: err });
          return;
        }
      }
      await delay(backoffMs);
      backoffMs = Math.min(backoffMs * 2, 2_000);
    }
  }
}

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { LanguageLimits } from '../../core/src/config.js';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { moduleLog } from '../../core/src/log.js';
import { SfuClient } from '../../core/src/sfu/SfuClient.js';
import type { Database } from '../../sql/src/index.js';
import { httpFailureFor } from './closeCodes.js';
import type { ConnectionLimits } from './Connection.js';
import { ConnectionAdmission, DEFAULT_ADMISSION, isRefusal, type AdmissionLimits } from './ConnectionAdmission.js';
import { NotFoundError } from '../../core/src/errors.js';
import { BadRequestError, MethodNotAllowedError } from './errors.js';
import { Hub } from './Hub.js';
import { createHttpMetrics, createSignalingMetrics } from './metrics.js';
import { RestApi, sendJson } from './RestApi.js';
import { SessionStore } from './SessionStore.js';
import { StaticFiles } from './StaticFiles.js';
import { handshakeProblem } from './upgradeHandshake.js';
import type { TokenVerifier } from './TokenVerifier.js';

const log = moduleLog('SignalingServer');

export interface SignalingServerOptions {
  db: Kysely<Database>;
  nc: NatsConnection;
  verifier: TokenVerifier;
  nodeId: string;
  /** Authenticated sockets beyond this are refused with 503 + Retry-After (seed C-5). */
  maxConnections: number;
  /** Bounds on sockets not yet authenticated and per client address (ConnectionAdmission.ts). */
  admission?: Partial<Omit<AdmissionLimits, 'maxConnections'>>;
  /** Built web pages (dist/web); unset: no pages, only the API. */
  webDir?: string | undefined;
  publicUrl?: string | undefined;
  /** See RestApiOptions.viewerLinkSecret. */
  viewerLinkSecret?: string | undefined;
  limits?: Partial<ConnectionLimits>;
  /** Retry-After of a refused upgrade. */
  retryAfterSeconds?: number;
  sfuTimeoutMs?: number;
  /**
   * Where /metrics is served: its own listener, so the public port never shows node ids, counts
   * and capacity to the internet. Unset: no metrics listener (the registry is still readable).
   */
  metrics?: { host: string; port: number } | undefined;
  /** Which caption languages viewers may pick (core config `languages`); default: the workers' offer, 16 per session. */
  languages?: LanguageLimits;
  /** How long after start every language counts as offered, until the workers' announcements (every 2 s) are in; default 3 s. */
  languageOfferWarmUpMs?: number;
}

/**
 * Frames larger than this close the socket (1009) inside ws before we see them. Frames between
 * MAX_MESSAGE_BYTES and this get an error frame and the socket stays open.
 */
const HARD_MAX_PAYLOAD_BYTES = 1024 * 1024;
const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * The signaling node's public port: the WebSocket at /ws, the REST API under /api, /healthz,
 * /readyz and the web pages; /metrics on a second listener (loopback by default). It owns the hub, the REST API, the SFU client and the session store
 * built around the database and NATS connections it is given (which stay the caller's).
 */
export class SignalingServer {
  readonly hub: Hub;
  readonly store: SessionStore;
  readonly registry: Registry;
  readonly #rest: RestApi;
  readonly #sfu: SfuClient;
  readonly #nc: NatsConnection;
  readonly #static: StaticFiles | undefined;
  readonly #http: http.Server;
  readonly #metricsHttp: http.Server | undefined;
  readonly #metricsListen: { host: string; port: number } | undefined;
  #metricsPort: number | undefined;
  readonly #wss: WebSocketServer;
  readonly #maxConnections: number;
  readonly #admission: ConnectionAdmission;
  readonly #retryAfterSeconds: number;
  readonly #httpMetrics: ReturnType<typeof createHttpMetrics>;
  #draining = false;
  #closing: Promise<void> | undefined;

  constructor(opts: SignalingServerOptions) {
    if (!Number.isInteger(opts.maxConnections) || opts.maxConnections < 1) throw new TypeError(`maxConnections must be a positive integer, got ${opts.maxConnections}`);
    this.#nc = opts.nc;
    this.#maxConnections = opts.maxConnections;
    this.#admission = new ConnectionAdmission({ maxConnections: opts.maxConnections, ...DEFAULT_ADMISSION, ...opts.admission });
    this.#retryAfterSeconds = opts.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    this.#sfu = new SfuClient({ nc: opts.nc, ...(opts.sfuTimeoutMs !== undefined ? { timeoutMs: opts.sfuTimeoutMs } : {}) });
    this.store = new SessionStore({ db: opts.db });
    this.hub = new Hub({
      verifier: opts.verifier,
      store: this.store,
      nc: opts.nc,
      sfu: this.#sfu,
      nodeId: opts.nodeId,
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...(opts.languages ? { languages: opts.languages } : {}),
      ...(opts.languageOfferWarmUpMs === undefined ? {} : { languageOfferWarmUpMs: opts.languageOfferWarmUpMs }),
    });
    this.#rest = new RestApi({
      verifier: opts.verifier,
      store: this.store,
      nc: opts.nc,
      sfu: this.#sfu,
      nodeId: opts.nodeId,
      viewerLinkSecret: opts.viewerLinkSecret,
      publicUrl: opts.publicUrl,
    });
    this.#static = opts.webDir === undefined ? undefined : new StaticFiles(opts.webDir);
    this.registry = createSignalingMetrics(this.hub, { maxConnections: opts.maxConnections, nodeId: opts.nodeId });
    this.#httpMetrics = createHttpMetrics(this.registry);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MAX_PAYLOAD_BYTES, perMessageDeflate: false, clientTracking: false });
    this.#http = http.createServer((req, res) => void this.#onRequest(req, res));
    this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    this.#http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#onClientError(err, socket));
    // Slow-loris guard for plain requests; upgraded sockets are ws's from then on.
    this.#http.headersTimeout = 10_000;
    this.#http.requestTimeout = 30_000;
    this.#metricsListen = opts.metrics;
    this.#metricsHttp = opts.metrics === undefined ? undefined : http.createServer((req, res) => void this.#onMetricsRequest(req, res));
  }

  /** The metrics listener's port once listening; undefined without one. */
  get metricsPort(): number | undefined {
    return this.#metricsPort;
  }

  /** Opens the node's language demand board, then listens; resolves with the bound port (useful with port 0). */
  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    await this.hub.open();
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(port, host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    const address = this.#http.address() as AddressInfo;
    log.info({ port: address.port, host }, 'listening');
    if (this.#metricsHttp && this.#metricsListen) {
      const metrics = this.#metricsHttp;
      const { host: mHost, port: mPort } = this.#metricsListen;
      await new Promise<void>((resolve, reject) => {
        metrics.once('error', reject);
        metrics.listen(mPort, mHost, () => {
          metrics.off('error', reject);
          resolve();
        });
      });
      this.#metricsPort = (metrics.address() as AddressInfo).port;
      log.info({ port: this.#metricsPort, host: mHost }, 'metrics listening');
    }
    return address.port;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Authenticated and unauthenticated sockets, in all and of one address (tests). */
  admissionForTesting(): ConnectionAdmission {
    return this.#admission;
  }

  /**
   * Graceful shutdown: /readyz fails and new upgrades get 503 at once; every socket is told
   * `goaway` and given until timeoutMs to leave; then the rest are closed and the server stops.
   */
  async drain({ timeoutMs }: { timeoutMs: number }): Promise<void> {
    this.#draining = true;
    // Spread reconnects over the first half of the window, so the other nodes see a ramp, not a wall.
    await this.hub.drain({ timeoutMs, reconnectSpreadMs: Math.max(1, Math.floor(Math.min(timeoutMs, 10_000) / 2)) });
    await this.close();
  }

  /** Closes every socket and the HTTP server. Idempotent; the db and NATS connections stay open. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#draining = true;
      this.hub.close();
      await this.hub.closed();
      const httpClosed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
      this.#http.closeIdleConnections();
      await httpClosed;
      if (this.#metricsHttp?.listening) {
        const metricsClosed = new Promise<void>((resolve) => this.#metricsHttp?.close(() => resolve()));
        this.#metricsHttp.closeAllConnections();
        await metricsClosed;
      }
      await this.#rest.close();
      this.#sfu.close();
      log.info('closed');
    })();
    return this.#closing;
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = parseRequestUrl(req.url);
    if (url === undefined) return this.#refuseUpgrade(socket, 400, 'invalid_request', 'malformed URL', 'bad_url');
    if (url.pathname !== '/ws') return this.#refuseUpgrade(socket, 404, 'not_found', 'the WebSocket is at /ws', 'path');
    if (url.searchParams.has('token')) {
      // Seed I-1: a token in a URL ends up in access logs. Refuse it so no client comes to rely on it.
      return this.#refuseUpgrade(socket, 400, 'invalid_request', 'send the token in the first message, never in the URL', 'token_in_url');
    }
    const problem = handshakeProblem(req);
    if (problem !== undefined) return this.#refuseUpgrade(socket, 400, 'invalid_request', problem, 'handshake');
    if (this.#draining) return this.#refuseUpgrade(socket, 503, 'unavailable', 'node shutting down', 'draining');
    const ticket = this.#admission.admit(req.socket.remoteAddress ?? 'unknown');
    if (isRefusal(ticket)) return this.#refuseUpgrade(socket, ticket.status, ticket.status === 429 ? 'rate_limited' : 'unavailable', ticket.message, ticket.reason);
    // ws answers a bad handshake itself and never calls back: the socket's close ends the ticket.
    const release = (): void => ticket.release();
    socket.once('close', release);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', release);
      try {
        this.hub.accept(ws, ticket);
      } catch (err) {
        ticket.release();
        log.debug({ err }, 'upgrade after close');
      }
    });
  }

  /**
   * A request Node's parser refused (not HTTP, a bad header, headers over the size limit, too
   * slow). Node's own answer has no body; ours is the JSON error every other refusal carries.
   */
  #onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, code, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'request headers too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request_timeout', 'the request did not arrive in time']
          : [400, 'bad_request', 'malformed HTTP request'];
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  #refuseUpgrade(socket: Duplex, status: number, code: string, message: string, reason: string): void {
    this.#httpMetrics.rejectedUpgrades.inc({ reason });
    const body = JSON.stringify({ error: { code, message } });
    const retryAfter = status === 503 || status === 429 ? `Retry-After: ${this.#retryAfterSeconds}\r\n` : '';
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n${retryAfter}Content-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const parsedUrl = parseRequestUrl(req.url);
    const url = parsedUrl ?? new URL('/', 'http://localhost');
    const method = req.method ?? 'GET';
    let route = 'static';
    try {
      if (parsedUrl === undefined) {
        route = 'bad_url';
        throw new BadRequestError('malformed URL (bad percent-encoding)', 'invalid_message');
      }
      if (url.pathname === '/healthz') {
        route = 'healthz';
        sendJson(res, 200, { status: 'ok' });
      } else if (url.pathname === '/readyz') {
        route = 'readyz';
        const ready = !this.#draining && !this.#nc.isClosed();
        sendJson(res, ready ? 200 : 503, { ready, draining: this.#draining, connections: this.hub.size, maxConnections: this.#maxConnections });
      } else if (url.pathname.startsWith('/api/')) {
        route = 'api';
        await this.#rest.handle(req, res, url);
      } else if (url.pathname === '/ws') {
        route = 'ws';
        sendJson(res, 426, { error: { code: 'upgrade_required', message: 'open a WebSocket here' } }, { upgrade: 'websocket' });
      } else {
        if (method !== 'GET' && method !== 'HEAD') throw new MethodNotAllowedError(`${method} ${url.pathname}`, ['GET', 'HEAD']);
        if (!this.#static) throw new NotFoundError('no web pages on this node');
        await this.#static.serve(url.pathname, res, method === 'HEAD');
      }
    } catch (err) {
      // The client went away while its body was being read: nobody is left to answer, and it is
      // not the node's failure.
      if (req.destroyed && err instanceof Error && 'code' in err && err.code === 'ECONNRESET') {
        log.debug({ path: url.pathname, method }, 'client aborted its request');
        return;
      }
      const failure = httpFailureFor(err);
      if (failure.status >= 500 && failure.status !== 503) log.error({ err, path: url.pathname, method }, 'request failed');
      else if (failure.detailHidden) log.warn({ err, path: url.pathname, method }, 'request failed on a dependency');
      if (res.headersSent) res.destroy();
      else sendJson(res, failure.status, { error: { code: failure.code, message: failure.message } }, failure.headers);
    } finally {
      this.#httpMetrics.requests.observe({ route, status: String(res.statusCode) }, (performance.now() - started) / 1000);
    }
  }

  /** The metrics listener: /metrics and /healthz only. */
  async #onMetricsRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = parseRequestUrl(req.url)?.pathname;
    try {
      if (pathname === '/metrics') {
        const text = await this.registry.metrics();
        res.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' });
        res.end(text);
      } else if (pathname === '/healthz') {
        sendJson(res, 200, { status: 'ok' });
      } else {
        sendJson(res, 404, { error: { code: 'not_found', message: 'only /metrics and /healthz here' } });
      }
    } catch (err) {
      log.error({ err }, 'metrics request failed');
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: { code: 'internal', message: 'internal error' } });
    }
  }
}

/**
 * The request's URL, or undefined when it cannot be used: not parsable, or a path or query with a
 * malformed percent-encoding (which would otherwise throw deep in a handler as a 500).
 */
function parseRequestUrl(raw: string | undefined): URL | undefined {
  const target = raw ?? '/';
  // An absolute-form or `//host` target would make URL() take its host from the request line.
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  try {
    const url = new URL(target, 'http://localhost');
    decodeURIComponent(url.pathname);
    decodeURIComponent(url.search.replace(/\+/g, ' '));
    return url;
  } catch {
    return undefined;
  }
}

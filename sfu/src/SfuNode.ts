import { performance } from 'node:perf_hooks';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { InternalError, InvalidStateError, NotFoundError, PolyglotError, UnavailableError, type ErrorCode } from '../../core/src/errors.js';
import { SafeEmitter } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import { decodeRpcRequest, encode, errorToWire, type NodeLoad, type Reply, type RpcRequest, type SessionEvent } from '../../core/src/sfu/rpcProtocol.js';
import { sfuRpcSubject, sfuSessionEventsSubject } from '../../core/src/subjects.js';
import type { MediaWorkerPool } from './MediaWorkerPool.js';
import { MediaQuota, defaultMediaLimits, type MediaLimits } from './MediaQuota.js';
import { SessionMedia, type MediaListenOptions, type SessionCloseReason } from './SessionMedia.js';
import { SfuPlacement } from './SfuPlacement.js';

const moduleLogger = moduleLog('SfuNode');

export interface SfuNodeOptions {
  nc: NatsConnection;
  /** This node's id: its RPC subject is pc.v1.sfu.<node>.rpc. */
  node: string;
  pool: MediaWorkerPool;
  listen: MediaListenOptions;
  maxConsumersPerRouter: number;
  /** Bounds on client-created media; by default `defaultMediaLimits` of the listen port range. */
  limits?: MediaLimits;
  announceIntervalMs?: number;
  /** Placement claims expire after this (a session outliving it is simply claimed again). */
  placementTtlMs?: number;
  /**
   * Asked before a producer or a plain publisher is created: refuses (NotFoundError,
   * InvalidStateError) a session that does not exist or has ended. Unset: every session is served
   * (media tests without a database).
   */
  sessionGate?: { check(session: string): Promise<void> } | undefined;
}

type ResolvedOptions = Required<Omit<SfuNodeOptions, 'sessionGate'>> & Pick<SfuNodeOptions, 'sessionGate'>;

const DEFAULT_SFU_ANNOUNCE_INTERVAL_MS = 2_000;
const DEFAULT_PLACEMENT_TTL_MS = 24 * 3_600_000;
/** Queue group of pc.v1.sfu.<node>.rpc. */
const RPC_QUEUE = 'sfu-rpc';

export type SfuNodeObserverEvents = {
  rpc: [{ method: RpcRequest['method'] | 'place' | 'invalid'; code: 'ok' | ErrorCode; ms: number }];
  newsession: [SessionMedia];
  close: [];
};

/**
 * One SFU node on NATS: serves the RPC contract of core/src/sfu/rpcProtocol.ts on
 * pc.v1.sfu.<node>.rpc, takes part in placement (SfuPlacement), and publishes each session's media
 * events. Sessions are created on demand by the first RPC that needs a router and forgotten when
 * their media closes.
 */
export class SfuNode {
  readonly observer = new SafeEmitter<SfuNodeObserverEvents>();
  readonly node: string;
  /** The process's media bounds and what counts against them (shared by every session). */
  readonly quota: MediaQuota;
  readonly #opts: ResolvedOptions;
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  readonly #sessions = new Map<string, SessionMedia>();
  readonly #creating = new Map<string, Promise<SessionMedia>>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #rpcSub: Subscription;
  readonly #placement: SfuPlacement;
  #draining = false;
  #closed = false;

  private constructor(opts: ResolvedOptions) {
    this.#opts = opts;
    this.node = opts.node;
    this.quota = new MediaQuota(opts.limits);
    this.#nc = opts.nc;
    this.#log = moduleLogger.child({ node: opts.node });
    this.#rpcSub = opts.nc.subscribe(sfuRpcSubject(opts.node), { queue: RPC_QUEUE, callback: (_err, msg) => this.#track(this.#onRpc(msg)) });
    this.#placement = new SfuPlacement({
      nc: opts.nc,
      node: opts.node,
      load: () => this.load,
      serves: (session) => this.#sessions.has(session),
      announceIntervalMs: opts.announceIntervalMs,
      placementTtlMs: opts.placementTtlMs,
    });
    this.#placement.observer.on('place', ({ code, ms }) => this.observer.safeEmit('rpc', { method: 'place', code, ms }));
  }

  static async start(opts: SfuNodeOptions): Promise<SfuNode> {
    const sfu = new SfuNode({
      announceIntervalMs: DEFAULT_SFU_ANNOUNCE_INTERVAL_MS,
      placementTtlMs: DEFAULT_PLACEMENT_TTL_MS,
      ...opts,
      limits: opts.limits ?? defaultMediaLimits(opts.listen.portRange),
    });
    // The subscriptions exist on the server once this returns: a request right after start() is served.
    await opts.nc.flush();
    sfu.#log.info({ rpcSubject: sfuRpcSubject(sfu.node) }, 'SFU node serving');
    return sfu;
  }

  get draining(): boolean {
    return this.#draining;
  }

  get load(): NodeLoad {
    let routers = 0;
    for (const media of this.#sessions.values()) routers += media.stats.routers;
    return { workers: this.#opts.pool.size, sessions: this.#sessions.size, routers, consumers: this.#opts.pool.consumers };
  }

  sessionForTesting(session: string): SessionMedia | undefined {
    return this.#sessions.get(session);
  }

  /**
   * Graceful stop: leaves the RPC and placement queue groups (other nodes take new sessions),
   * answers the requests already received, says goaway, closes every session with reason
   * 'shutdown' (each publishes sessionClosed) and flushes those messages to the server.
   */
  async drain(): Promise<void> {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    this.#log.info({ sessions: this.#sessions.size }, 'draining');
    await Promise.allSettled([this.#rpcSub.drain(), this.#placement.drain()]);
    await Promise.allSettled([...this.#inFlight]);
    this.#placement.goaway();
    await Promise.allSettled([...this.#creating.values()]);
    for (const media of [...this.#sessions.values()]) media.close('shutdown');
    await this.#nc.flush();
    this.close();
  }

  /** Stops at once: unsubscribes and closes every session (reason 'shutdown'). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#draining = true;
    this.#rpcSub.unsubscribe();
    this.#placement.close();
    for (const media of [...this.#sessions.values()]) media.close('shutdown');
    this.#sessions.clear();
    this.observer.safeEmit('close');
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #onRpc(msg: Msg): Promise<void> {
    const started = performance.now();
    let method: RpcRequest['method'] | 'invalid' = 'invalid';
    let reply: Reply<unknown>;
    try {
      const request = decodeRpcRequest(msg.data);
      method = request.method;
      reply = { ok: true, result: await this.#dispatch(request) };
    } catch (err) {
      reply = { ok: false, error: errorToWire(err) };
      this.#logFailure(method, err);
    }
    this.#respond(msg, reply);
    this.observer.safeEmit('rpc', { method, code: reply.ok ? 'ok' : reply.error.code, ms: performance.now() - started });
  }

  #respond(msg: Msg, reply: Reply<unknown>): void {
    try {
      msg.respond(encode(reply));
    } catch (err) {
      // The connection is closing; the requester times out, which is what it would see anyway.
      this.#log.warn({ err }, 'could not send an RPC reply');
    }
  }

  #logFailure(method: string, err: unknown): void {
    if (PolyglotError.is(err) && !(err instanceof InternalError)) this.#log.debug({ method, err }, 'RPC refused');
    else this.#log.error({ method, err }, 'RPC failed');
  }

  async #dispatch(request: RpcRequest): Promise<unknown> {
    switch (request.method) {
      case 'getRouterRtpCapabilities': {
        const media = await this.#session(request.params.session, true);
        return { rtpCapabilities: media.rtpCapabilities };
      }
      case 'createWebRtcTransport': {
        const { session, peer, direction } = request.params;
        return (await this.#session(session, true)).createWebRtcTransport(peer, direction);
      }
      case 'connectTransport': {
        const { session, peer, transportId, dtlsParameters } = request.params;
        await (await this.#session(session, false)).connectTransport(peer, transportId, dtlsParameters);
        return {};
      }
      case 'produce': {
        const { session, peer, transportId, rtpParameters } = request.params;
        await this.#opts.sessionGate?.check(session);
        return (await this.#session(session, false)).produce(peer, transportId, rtpParameters);
      }
      case 'consume': {
        const { session, peer, transportId, producerId, rtpCapabilities } = request.params;
        const consumer = await (await this.#session(session, false)).consume(peer, transportId, producerId, rtpCapabilities);
        return { consumerId: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters, paused: consumer.paused };
      }
      case 'resumeConsumer': {
        const { session, peer, consumerId } = request.params;
        await (await this.#session(session, false)).resumeConsumer(peer, consumerId);
        return {};
      }
      case 'closePeer':
        this.#sessions.get(request.params.session)?.closePeer(request.params.peer);
        return {};
      case 'closeSession':
        this.#sessions.get(request.params.session)?.close('closed');
        return {};
      case 'createPlainPublisher': {
        const { session, peer } = request.params;
        await this.#opts.sessionGate?.check(session);
        return (await this.#session(session, true)).createPlainPublisher(peer);
      }
      case 'listProducers':
        return { producers: this.#sessions.get(request.params.session)?.listProducers() ?? [] };
    }
  }

  async #session(session: string, create: boolean): Promise<SessionMedia> {
    const existing = this.#sessions.get(session);
    if (existing) return existing;
    const creating = this.#creating.get(session);
    if (creating) return creating;
    if (!create) throw new NotFoundError(`no session ${session} on this SFU node`);
    if (this.#draining) throw new UnavailableError('this SFU node is shutting down');
    const promise = SessionMedia.create({
      session,
      pool: this.#opts.pool,
      listen: this.#opts.listen,
      maxConsumersPerRouter: this.#opts.maxConsumersPerRouter,
      quota: this.quota,
      log: this.#log,
    })
      .then((media) => {
        if (this.#closed) {
          media.close('shutdown');
          throw new InvalidStateError('this SFU node closed');
        }
        this.#adopt(media);
        return media;
      })
      .finally(() => this.#creating.delete(session));
    this.#creating.set(session, promise);
    return promise;
  }

  #adopt(media: SessionMedia): void {
    const { session } = media;
    this.#sessions.set(session, media);
    const base = { v: 1, session, node: this.node } as const;
    media.on('produceradded', ({ producerId, peer, kind }) => {
      this.#publishSession({ ...base, at: Date.now(), type: 'producerAdded', producerId, peer, kind });
    });
    media.on('producerclosed', ({ producerId, peer }, reason) => {
      this.#publishSession({ ...base, at: Date.now(), type: 'producerClosed', producerId, peer, reason });
    });
    media.on('peersdisconnected', (peers) => {
      this.#publishSession({ ...base, at: Date.now(), type: 'peersDisconnected', peers, reason: 'worker_died' });
    });
    media.once('@close', (reason: SessionCloseReason) => {
      this.#sessions.delete(session);
      this.#publishSession({ ...base, at: Date.now(), type: 'sessionClosed', reason });
    });
    this.observer.safeEmit('newsession', media);
  }

  #publishSession(event: SessionEvent): void {
    try {
      this.#nc.publish(sfuSessionEventsSubject(event.session), encode(event));
    } catch (err) {
      this.#log.warn({ err, sessionId: event.session, type: event.type }, 'could not publish a session event');
    }
  }
}

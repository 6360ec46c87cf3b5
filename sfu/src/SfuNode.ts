import { performance } from 'node:perf_hooks';
import type { KV, Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { InternalError, InvalidStateError, NotFoundError, PolyglotError, UnavailableError, type ErrorCode } from '../../core/src/errors.js';
import { SafeEmitter } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import {
  decodeNodeMessage,
  decodePlaceRequest,
  decodeRpcRequest,
  encode,
  errorToWire,
  placeResultSchema,
  type NodeLoad,
  type NodeMessage,
  type PlaceResult,
  type Reply,
  type RpcRequest,
  type SessionEvent,
} from '../../core/src/sfu/rpcProtocol.js';
import { SFU_ANNOUNCE_SUBJECT, SFU_PLACE_SUBJECT, sfuRpcSubject, sfuSessionEventsSubject } from '../../core/src/subjects.js';
import type { MediaWorkerPool } from './MediaWorkerPool.js';
import { SessionMedia, type MediaListenOptions, type SessionCloseReason } from './SessionMedia.js';

const moduleLogger = moduleLog('SfuNode');

export interface SfuNodeOptions {
  nc: NatsConnection;
  /** This node's id: its RPC subject is pc.v1.sfu.<node>.rpc. */
  node: string;
  pool: MediaWorkerPool;
  listen: MediaListenOptions;
  maxConsumersPerRouter: number;
  announceIntervalMs?: number;
  /** Placement claims expire after this (a session outliving it is simply claimed again). */
  placementTtlMs?: number;
}

export const DEFAULT_ANNOUNCE_INTERVAL_MS = 2_000;
const DEFAULT_PLACEMENT_TTL_MS = 24 * 3_600_000;
/** A node not heard from for this many announce intervals is taken for gone. */
const MISSED_ANNOUNCEMENTS = 3;
const PLACE_QUEUE = 'sfu-place';
const RPC_QUEUE = 'sfu-rpc';
/** JetStream KV bucket holding session -> node claims (written only by SFU nodes). */
const PLACEMENT_BUCKET = 'pc_sfu_placement';

export type SfuNodeObserverEvents = {
  rpc: [{ method: RpcRequest['method'] | 'place' | 'invalid'; code: 'ok' | ErrorCode; ms: number }];
  newsession: [SessionMedia];
  close: [];
};

interface KnownNode {
  load: NodeLoad;
  seenAt: number;
  intervalMs: number;
  /** Said goaway. */
  gone: boolean;
}

const EMPTY_LOAD: NodeLoad = { workers: 0, sessions: 0, routers: 0, consumers: 0 };
/** Nodes silent for this many intervals are forgotten altogether. */
const FORGET_AFTER_INTERVALS = 30;

/**
 * One SFU node on NATS: serves the RPC contract of core/src/sfu/rpcProtocol.ts on pc.v1.sfu.<node>.rpc, takes
 * part in placement, announces its load, and publishes each session's media events. Sessions are
 * created on demand by the first RPC that needs a router and forgotten when their media closes.
 */
export class SfuNode {
  readonly observer = new SafeEmitter<SfuNodeObserverEvents>();
  readonly node: string;
  readonly #opts: Required<SfuNodeOptions>;
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  readonly #sessions = new Map<string, SessionMedia>();
  readonly #creating = new Map<string, Promise<SessionMedia>>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #known = new Map<string, KnownNode>();
  readonly #subs: Subscription[] = [];
  #announceTimer: NodeJS.Timeout | undefined;
  #kv: Promise<KV | undefined> | undefined;
  #draining = false;
  #closed = false;

  private constructor(opts: Required<SfuNodeOptions>) {
    this.#opts = opts;
    this.node = opts.node;
    this.#nc = opts.nc;
    this.#log = moduleLogger.child({ node: opts.node });
  }

  static async start(opts: SfuNodeOptions): Promise<SfuNode> {
    const full: Required<SfuNodeOptions> = {
      announceIntervalMs: DEFAULT_ANNOUNCE_INTERVAL_MS,
      placementTtlMs: DEFAULT_PLACEMENT_TTL_MS,
      ...opts,
    };
    const sfu = new SfuNode(full);
    const { nc } = full;
    sfu.#subs.push(
      nc.subscribe(sfuRpcSubject(full.node), { queue: RPC_QUEUE, callback: (_err, msg) => sfu.#track(sfu.#onRpc(msg)) }),
      nc.subscribe(SFU_PLACE_SUBJECT, { queue: PLACE_QUEUE, callback: (_err, msg) => sfu.#track(sfu.#onPlace(msg)) }),
      nc.subscribe(SFU_ANNOUNCE_SUBJECT, { callback: (_err, msg) => sfu.#onNodeMessage(msg) }),
    );
    sfu.#announce();
    sfu.#announceTimer = setInterval(() => sfu.#announce(), full.announceIntervalMs);
    // The subscriptions exist on the server once this returns: a request right after start() is served.
    await nc.flush();
    sfu.#log.info({ rpcSubject: sfuRpcSubject(full.node) }, 'SFU node serving');
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
    clearInterval(this.#announceTimer);
    await Promise.allSettled(this.#subs.map((sub) => sub.drain()));
    await Promise.allSettled([...this.#inFlight]);
    this.#publishNode({ v: 1, type: 'goaway', node: this.node, at: Date.now() });
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
    clearInterval(this.#announceTimer);
    for (const sub of this.#subs) sub.unsubscribe();
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

  async #onPlace(msg: Msg): Promise<void> {
    const started = performance.now();
    let reply: Reply<PlaceResult>;
    try {
      const { session } = decodePlaceRequest(msg.data);
      reply = { ok: true, result: await this.#place(session) };
    } catch (err) {
      reply = { ok: false, error: errorToWire(err) };
      this.#logFailure('place', err);
    }
    this.#respond(msg, reply);
    this.observer.safeEmit('rpc', { method: 'place', code: reply.ok ? 'ok' : reply.error.code, ms: performance.now() - started });
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
    if (!create) throw new NotFoundError(`no session ${session} on node ${this.node}`);
    if (this.#draining) throw new UnavailableError(`node ${this.node} is shutting down`);
    const promise = SessionMedia.create({
      session,
      pool: this.#opts.pool,
      listen: this.#opts.listen,
      maxConsumersPerRouter: this.#opts.maxConsumersPerRouter,
      log: this.#log,
    })
      .then((media) => {
        if (this.#closed) {
          media.close('shutdown');
          throw new InvalidStateError(`node ${this.node} closed`);
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

  #publishNode(message: NodeMessage): void {
    try {
      this.#nc.publish(SFU_ANNOUNCE_SUBJECT, encode(message));
    } catch (err) {
      this.#log.warn({ err, type: message.type }, 'could not publish a node message');
    }
  }

  #announce(): void {
    if (this.#draining) return;
    const now = Date.now();
    for (const [node, known] of this.#known) {
      if (now - known.seenAt > FORGET_AFTER_INTERVALS * known.intervalMs) this.#known.delete(node);
    }
    this.#publishNode({ v: 1, type: 'announce', node: this.node, at: Date.now(), intervalMs: this.#opts.announceIntervalMs, load: this.load });
  }

  #onNodeMessage(msg: Msg): void {
    let message: NodeMessage;
    try {
      message = decodeNodeMessage(msg.data);
    } catch (err) {
      this.#log.debug({ err }, 'ignored a malformed node message');
      return;
    }
    if (message.type === 'goaway') {
      // Kept (as gone) rather than deleted: a claim for it must not pass for a newcomer's.
      const known = this.#known.get(message.node);
      if (known) known.gone = true;
      else this.#known.set(message.node, { load: EMPTY_LOAD, seenAt: Date.now(), intervalMs: this.#opts.announceIntervalMs, gone: true });
      return;
    }
    const isNew = !this.#known.has(message.node);
    this.#known.set(message.node, { load: message.load, seenAt: Date.now(), intervalMs: message.intervalMs, gone: false });
    // Answer a newcomer at once, so it knows every node within one round trip, not one interval.
    if (isNew && message.node !== this.node) this.#announce();
  }

  #alive(node: string): boolean {
    if (node === this.node) return !this.#draining;
    const known = this.#known.get(node);
    return known !== undefined && !known.gone && Date.now() - known.seenAt <= MISSED_ANNOUNCEMENTS * known.intervalMs;
  }

  /** The live node with the fewest consumers, then sessions; this node when it knows no other. */
  #leastLoadedNode(): string {
    let best = this.node;
    let bestLoad = this.load;
    for (const [node, { load }] of this.#known) {
      if (node === this.node || !this.#alive(node)) continue;
      if (load.consumers < bestLoad.consumers || (load.consumers === bestLoad.consumers && load.sessions < bestLoad.sessions)) {
        best = node;
        bestLoad = load;
      }
    }
    return best;
  }

  async #place(session: string): Promise<PlaceResult> {
    if (this.#draining) throw new UnavailableError(`node ${this.node} is shutting down`);
    if (this.#sessions.has(session)) return { node: this.node };
    const kv = await this.#placementKv();
    if (!kv) return { node: this.#leastLoadedNode() };
    // A lost race re-reads the winner's claim, which is then alive or fresh.
    for (let round = 0; round < 3; round += 1) {
      const entry = await kv.get(session);
      const owner = entry?.operation === 'PUT' ? decodeClaim(entry.value) : undefined;
      // A fresh claim for a node not heard of yet is trusted: that node started a moment ago.
      const fresh = entry !== null && Date.now() - entry.created.getTime() < MISSED_ANNOUNCEMENTS * this.#opts.announceIntervalMs;
      if (owner !== undefined && (this.#alive(owner) || (fresh && !this.#known.has(owner)))) return { node: owner };
      const node = this.#leastLoadedNode();
      try {
        if (entry) await kv.update(session, encode({ node }), entry.revision);
        else await kv.create(session, encode({ node }));
        return { node };
      } catch (err) {
        this.#log.debug({ err, sessionId: session }, 'placement claim lost a race; re-reading');
      }
    }
    throw new UnavailableError(`could not place session ${session}`);
  }

  #placementKv(): Promise<KV | undefined> {
    this.#kv ??= this.#nc
      .jetstream()
      .views.kv(PLACEMENT_BUCKET, { history: 1, ttl: this.#opts.placementTtlMs })
      .catch((err: unknown) => {
        // Without JetStream a single node still works: placement falls back to "least loaded".
        this.#log.warn({ err }, 'placement KV unavailable; placing sessions without a claim');
        return undefined;
      });
    return this.#kv;
  }
}

/** A claim written by another node; garbage reads as "no claim". */
function decodeClaim(value: Uint8Array): string | undefined {
  try {
    const parsed = placeResultSchema.safeParse(JSON.parse(new TextDecoder().decode(value)));
    return parsed.success ? parsed.data.node : undefined;
  } catch {
    return undefined;
  }
}

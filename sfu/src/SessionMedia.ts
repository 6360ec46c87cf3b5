import { randomBytes, randomInt } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { moduleLog } from '../../core/src/log.js';
import { InternalError, InvalidArgumentError, InvalidStateError, NotFoundError, PolyglotError } from '../../core/src/errors.js';
import { SafeEmitter } from '../../core/src/events.js';
import type { MediaWorkerPool } from './MediaWorkerPool.js';
import { MediaQuota, defaultMediaLimits, type MediaLease } from './MediaQuota.js';
import type { DtlsParameters, IceCandidate, IceParameters, ProducerInfo, RtpCapabilities, RtpParameters } from '../../core/src/sfu/rpcProtocol.js';

const moduleLogger = moduleLog('SessionMedia');

/** Audio only: Opus is what browsers send and what the caption pipeline decodes. */
export const MEDIA_CODECS: types.RouterRtpCodecCapability[] = [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }];

/** What a plain publisher (ffmpeg) must send: Opus, this payload type, the returned SSRC. */
export const PLAIN_PUBLISHER_PAYLOAD_TYPE = 100;

export interface MediaListenOptions {
  /** Local address the RTC sockets bind to. */
  ip: string;
  /** Address given to clients in ICE candidates (and to plain publishers), when `ip` is not reachable as is (NAT, 0.0.0.0). */
  announcedAddress?: string;
  portRange: { min: number; max: number };
}

export interface SessionMediaOptions {
  session: string;
  pool: MediaWorkerPool;
  listen: MediaListenOptions;
  /** Past this many consumer slots on a router, new viewers get a router on another worker. */
  maxConsumersPerRouter: number;
  /** The process's media bounds, shared by its sessions; by default one of this session's own, from the port range. */
  quota?: MediaQuota;
  log?: Logger;
}

export type SessionCloseReason = 'closed' | 'shutdown' | 'worker_died';
export type ProducerCloseReason = 'closed' | 'peer_closed' | 'worker_died' | 'session_closed';

export type SessionMediaEvents = {
  produceradded: [ProducerInfo];
  producerclosed: [ProducerInfo, ProducerCloseReason];
  /** A worker died with these peers' transports; the session goes on without them. */
  peersdisconnected: [string[]];
  /** For the owner (SfuNode) only: the session is closed and must be forgotten. */
  '@close': [SessionCloseReason];
};

export type SessionMediaObserverEvents = {
  newrouter: [{ router: types.Router; origin: boolean; workerPid: number }];
  /** A producer was piped from the origin router into a viewer router on another worker. */
  pipe: [{ producerId: string; toRouterId: string }];
  newconsumer: [types.Consumer];
  close: [];
};

type TransportKind = 'webrtc' | 'plain' | 'direct';
type Direction = 'send' | 'recv';

interface RouterSlot {
  router: types.Router;
  worker: types.Worker;
  origin: boolean;
  transports: Set<TransportRecord>;
  /** Recv transports being created on this router: counted so concurrent joins do not overshoot. */
  pending: number;
  /** Peers whose transports closed because the worker died (reported once, on 'workerclose'). */
  lostPeers: Set<string>;
}

interface TransportRecord {
  transport: types.Transport;
  kind: TransportKind;
  peer: string;
  direction: Direction;
  slot: RouterSlot;
  connected: boolean;
  consumers: Set<string>;
  lease: MediaLease | undefined;
}

interface ProducerRecord {
  producer: types.Producer;
  info: ProducerInfo;
}

interface ConsumerRecord {
  consumer: types.Consumer;
  peer: string;
  transport: TransportRecord;
}

export interface WebRtcTransportInfo {
  id: string;
  iceParameters: IceParameters;
  iceCandidates: IceCandidate[];
  dtlsParameters: DtlsParameters;
}

export interface PlainPublisherInfo {
  peer: string;
  transportId: string;
  producerId: string;
  ip: string;
  port: number;
  payloadType: number;
  ssrc: number;
  clockRate: 48000;
  channels: 2;
}

/**
 * The media of one session. Producers (host, speakers, plain publishers) live on the origin
 * router. Viewers are put on the origin router until it holds `maxConsumersPerRouter` consumer
 * slots (a recv transport counts as one slot until it has consumers, then one per consumer);
 * beyond that a viewer gets a router on another worker, fed from the origin by pipeToRouter,
 * piped lazily per producer on that router's first consume.
 *
 * Every transport belongs to one peer, and every call names the peer: an id of another peer is
 * NotFound, so a client cannot touch media it does not own.
 */
export class SessionMedia extends SafeEmitter<SessionMediaEvents> {
  readonly observer = new SafeEmitter<SessionMediaObserverEvents>();
  readonly session: string;
  readonly #opts: SessionMediaOptions;
  readonly #log: Logger;
  readonly #origin: RouterSlot;
  readonly #quota: MediaQuota;
  readonly #slots = new Map<string, RouterSlot>();
  readonly #transports = new Map<string, TransportRecord>();
  readonly #producers = new Map<string, ProducerRecord>();
  readonly #consumers = new Map<string, ConsumerRecord>();
  /** `${producerId} ${routerId}` -> the pipe in progress or done. */
  readonly #pipes = new Map<string, Promise<void>>();
  #newSlot: Promise<RouterSlot> | undefined;
  readonly #closingPeers = new Set<string>();
  #closed = false;

  private constructor(opts: SessionMediaOptions, origin: RouterSlot) {
    super();
    this.session = opts.session;
    this.#opts = opts;
    this.#log = (opts.log ?? moduleLogger).child({ sessionId: opts.session });
    this.#origin = origin;
    this.#quota = opts.quota ?? new MediaQuota(defaultMediaLimits(opts.listen.portRange));
    this.#adoptSlot(origin);
  }

  /** Creates the origin router on the pool's least-loaded worker. */
  static async create(opts: SessionMediaOptions): Promise<SessionMedia> {
    if (!Number.isInteger(opts.maxConsumersPerRouter) || opts.maxConsumersPerRouter < 1) {
      throw new TypeError(`maxConsumersPerRouter must be an integer >= 1, got ${opts.maxConsumersPerRouter}`);
    }
    const worker = opts.pool.leastLoaded();
    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS, appData: { session: opts.session } });
    const media = new SessionMedia(opts, { router, worker, origin: true, transports: new Set(), pending: 0, lostPeers: new Set() });
    media.#log.info({ routerId: router.id, workerPid: worker.pid }, 'session media created');
    return media;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get rtpCapabilities(): RtpCapabilities {
    return this.#origin.router.rtpCapabilities;
  }

  get stats(): { routers: number; transports: number; producers: number; consumers: number } {
    return { routers: this.#slots.size, transports: this.#transports.size, producers: this.#producers.size, consumers: this.#consumers.size };
  }

  listProducers(): ProducerInfo[] {
    return [...this.#producers.values()].map((p) => p.info);
  }

  async createWebRtcTransport(peer: string, direction: Direction): Promise<WebRtcTransportInfo> {
    const { ip, announcedAddress, portRange } = this.#opts.listen;
    const transport = await this.#createTransport(peer, direction, 'webrtc', (router) =>
      router.createWebRtcTransport({
        listenInfos: [{ protocol: 'udp', ip, announcedAddress, portRange }],
        enableUdp: true,
        enableTcp: false,
        appData: { session: this.session, peer, direction },
      }),
    );
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  /**
   * A receive-only DirectTransport for server-side consumers (audio taps); placed like a viewer,
   * so it also exercises piping. Returns its id, for consume().
   */
  async createDirectTransport(peer: string): Promise<string> {
    const transport = await this.#createTransport(peer, 'recv', 'direct', (router) =>
      router.createDirectTransport({ maxMessageSize: 262_144, appData: { session: this.session, peer } }),
    );
    return transport.id;
  }

  /** A comedia PlainTransport on the origin router plus an Opus producer for an RTP source. */
  async createPlainPublisher(peer = `publisher-${randomBytes(6).toString('hex')}`): Promise<PlainPublisherInfo> {
    const { ip, announcedAddress, portRange } = this.#opts.listen;
    const transport = await this.#createTransport(peer, 'send', 'plain', (router) =>
      router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip, announcedAddress, portRange },
        rtcpMux: true,
        comedia: true,
        appData: { session: this.session, peer },
      }),
    );
    // ffmpeg's -ssrc is a signed 32-bit option: stay below 2^31.
    const ssrc = randomInt(1, 0x7fffffff);
    const { producerId } = await this.produce(peer, transport.id, {
      codecs: [{ mimeType: 'audio/opus', payloadType: PLAIN_PUBLISHER_PAYLOAD_TYPE, clockRate: 48000, channels: 2, rtcpFeedback: [] }],
      encodings: [{ ssrc }],
    });
    return {
      peer,
      transportId: transport.id,
      producerId,
      ip: announcedAddress ?? transport.tuple.localAddress,
      port: transport.tuple.localPort,
      payloadType: PLAIN_PUBLISHER_PAYLOAD_TYPE,
      ssrc,
      clockRate: 48000,
      channels: 2,
    };
  }

  async connectTransport(peer: string, transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    const record = this.#transport(peer, transportId);
    if (record.transport.type !== 'webrtc') throw new InvalidArgumentError(`transport ${transportId} is not a WebRTC transport`);
    if (record.connected) throw new InvalidStateError(`transport ${transportId} is already connected`);
    record.connected = true;
    try {
      await record.transport.connect({ dtlsParameters });
    } catch (err) {
      record.connected = false;
      throw mediasoupError(`connect ${transportId}`, err);
    }
  }

  async produce(peer: string, transportId: string, rtpParameters: RtpParameters): Promise<{ producerId: string }> {
    const record = this.#transport(peer, transportId);
    if (record.direction !== 'send') throw new InvalidArgumentError(`transport ${transportId} is not a send transport`);
    let producer: types.Producer;
    try {
      producer = await record.transport.produce({ kind: 'audio', rtpParameters, appData: { session: this.session, peer } });
    } catch (err) {
      throw mediasoupError(`produce on ${transportId}`, err);
    }
    if (this.#closed) {
      producer.close();
      throw new InvalidStateError(`session ${this.session} closed`);
    }
    const info: ProducerInfo = { producerId: producer.id, peer, kind: producer.kind };
    this.#producers.set(producer.id, { producer, info });
    producer.observer.once('close', () => this.#producerClosed(producer.id, record.slot));
    this.#log.info({ peer, producerId: producer.id, transportId }, 'producer added');
    this.safeEmit('produceradded', info);
    return { producerId: producer.id };
  }

  /**
   * A consumer of `producerId` on a recv transport. WebRTC consumers start paused (resume once the
   * client has set it up, as mediasoup recommends); direct ones start flowing.
   */
  async consume(peer: string, transportId: string, producerId: string, rtpCapabilities?: RtpCapabilities): Promise<types.Consumer> {
    const record = this.#transport(peer, transportId);
    if (record.direction !== 'recv') throw new InvalidArgumentError(`transport ${transportId} is not a recv transport`);
    if (!this.#producers.has(producerId)) throw new NotFoundError(`no producer ${producerId} in session ${this.session}`);
    const { router } = record.slot;
    if (!record.slot.origin) await this.#pipe(producerId, record.slot);
    const caps = rtpCapabilities ?? router.rtpCapabilities;
    if (!router.canConsume({ producerId, rtpCapabilities: caps })) {
      throw new InvalidArgumentError(`rtpCapabilities cannot consume producer ${producerId}`);
    }
    // Counted before the await, so concurrent requests cannot overshoot the bound.
    const lease = record.kind === 'direct' ? undefined : this.#quota.acquireConsumer(this.session, peer);
    let consumer: types.Consumer;
    try {
      consumer = await record.transport.consume({ producerId, rtpCapabilities: caps, paused: record.kind === 'webrtc' });
    } catch (err) {
      lease?.release();
      throw mediasoupError(`consume ${producerId} on ${transportId}`, err);
    }
    if (this.#closed || record.transport.closed) {
      lease?.release();
      consumer.close();
      throw new InvalidStateError(`transport ${transportId} closed`);
    }
    this.#consumers.set(consumer.id, { consumer, peer, transport: record });
    record.consumers.add(consumer.id);
    consumer.observer.once('close', () => {
      lease?.release();
      this.#consumers.delete(consumer.id);
      record.consumers.delete(consumer.id);
    });
    this.observer.safeEmit('newconsumer', consumer);
    return consumer;
  }

  async resumeConsumer(peer: string, consumerId: string): Promise<void> {
    const record = this.#consumers.get(consumerId);
    if (!record || record.peer !== peer) throw new NotFoundError(`no consumer ${consumerId} of peer ${peer} in session ${this.session}`);
    try {
      await record.consumer.resume();
    } catch (err) {
      throw mediasoupError(`resume ${consumerId}`, err);
    }
  }

  /** Closes the peer's transports, and with them its producers and consumers. Idempotent. */
  closePeer(peer: string): void {
    if (this.#closed) return;
    this.#closingPeers.add(peer);
    try {
      for (const record of [...this.#transports.values()]) {
        if (record.peer === peer) record.transport.close();
      }
    } finally {
      this.#closingPeers.delete(peer);
    }
  }

  /** Closes every router of the session (all media goes with them). Idempotent. */
  close(reason: SessionCloseReason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    // Viewer routers first: their pipe producers go quietly before the origin's pipe consumers.
    for (const slot of this.#slots.values()) if (!slot.origin) slot.router.close();
    this.#origin.router.close();
    this.#slots.clear();
    this.#transports.clear();
    this.#producers.clear();
    this.#consumers.clear();
    this.#pipes.clear();
    this.#log.info({ reason }, 'session media closed');
    this.safeEmit('@close', reason);
    this.observer.safeEmit('close');
  }

  /** The router serving a transport, to check placement in tests. */
  routerOfTransportForTesting(transportId: string): { routerId: string; workerPid: number; origin: boolean } | undefined {
    const record = this.#transports.get(transportId);
    return record && { routerId: record.slot.router.id, workerPid: record.slot.worker.pid, origin: record.slot.origin };
  }

  #transport(peer: string, transportId: string): TransportRecord {
    if (this.#closed) throw new InvalidStateError(`session ${this.session} closed`);
    const record = this.#transports.get(transportId);
    if (!record || record.peer !== peer) throw new NotFoundError(`no transport ${transportId} of peer ${peer} in session ${this.session}`);
    return record;
  }

  async #createTransport<T extends types.Transport>(
    peer: string,
    direction: Direction,
    kind: TransportKind,
    create: (router: types.Router) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new InvalidStateError(`session ${this.session} closed`);
    // Counted before any await, so a peer sending many requests at once cannot overshoot.
    const lease = kind === 'direct' ? undefined : this.#quota.acquireTransport(this.session, peer, direction);
    let slot: RouterSlot;
    let transport: T;
    try {
      slot = direction === 'send' ? this.#origin : await this.#slotForViewer();
      slot.pending += 1;
      try {
        transport = await create(slot.router);
      } catch (err) {
        throw mediasoupError(`create ${kind} transport`, err);
      } finally {
        slot.pending -= 1;
      }
    } catch (err) {
      lease?.release();
      throw err;
    }
    if (this.#closed || slot.router.closed) {
      lease?.release();
      transport.close();
      throw new InvalidStateError(`session ${this.session} closed`);
    }
    // Only WebRTC transports need connect(): a direct one has no remote, a comedia one learns it.
    const record: TransportRecord = { transport, kind, peer, direction, slot, connected: kind !== 'webrtc', consumers: new Set(), lease };
    this.#transports.set(transport.id, record);
    slot.transports.add(record);
    transport.observer.once('close', () => this.#transportClosed(record));
    this.#log.debug({ peer, direction, kind, transportId: transport.id, routerId: slot.router.id }, 'transport created');
    return transport;
  }

  #transportClosed(record: TransportRecord): void {
    record.lease?.release();
    if (this.#closed) return;
    this.#transports.delete(record.transport.id);
    const { slot } = record;
    slot.transports.delete(record);
    if (slot.worker.died) {
      slot.lostPeers.add(record.peer);
      return;
    }
    // A viewer router nobody uses any more is closed; the next overflow makes a fresh one.
    if (!slot.origin && slot.transports.size === 0 && slot.pending === 0) slot.router.close();
  }

  #producerClosed(producerId: string, slot: RouterSlot): void {
    if (this.#closed) return;
    const record = this.#producers.get(producerId);
    if (!record) return;
    this.#producers.delete(producerId);
    for (const key of this.#pipes.keys()) if (key.startsWith(`${producerId} `)) this.#pipes.delete(key);
    const reason: ProducerCloseReason = slot.worker.died ? 'worker_died' : this.#closingPeers.has(record.info.peer) ? 'peer_closed' : 'closed';
    this.#log.info({ producerId, peer: record.info.peer, reason }, 'producer closed');
    this.safeEmit('producerclosed', record.info, reason);
  }

  /** A router for one more viewer: the first under the threshold, else a new one on another worker. */
  async #slotForViewer(): Promise<RouterSlot> {
    const max = this.#opts.maxConsumersPerRouter;
    // The origin first, then viewer routers in creation order: fill before spreading.
    for (const slot of this.#slots.values()) {
      if (slotLoad(slot) < max) return slot;
    }
    this.#newSlot ??= this.#createViewerSlot().finally(() => (this.#newSlot = undefined));
    const slot = await this.#newSlot;
    return slotLoad(slot) < max ? slot : this.#slotForViewer();
  }

  async #createViewerSlot(): Promise<RouterSlot> {
    const used = new Set([...this.#slots.values()].map((s) => s.worker));
    const worker = this.#opts.pool.leastLoaded(used);
    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS, appData: { session: this.session } });
    if (this.#closed) {
      router.close();
      throw new InvalidStateError(`session ${this.session} closed`);
    }
    const slot: RouterSlot = { router, worker, origin: false, transports: new Set(), pending: 0, lostPeers: new Set() };
    this.#adoptSlot(slot);
    this.#log.info({ routerId: router.id, workerPid: worker.pid, sameWorker: used.has(worker) }, 'viewer router added');
    return slot;
  }

  #adoptSlot(slot: RouterSlot): void {
    this.#slots.set(slot.router.id, slot);
    slot.router.observer.once('close', () => {
      if (this.#closed) return;
      this.#slots.delete(slot.router.id);
      for (const key of this.#pipes.keys()) if (key.endsWith(` ${slot.router.id}`)) this.#pipes.delete(key);
    });
    // mediasoup closes the router's transports before this event, so lostPeers is complete here.
    slot.router.once('workerclose', () => {
      if (this.#closed) return;
      if (!slot.worker.died) {
        // The pool closed its workers (process shutdown) before the node closed this session.
        this.close('shutdown');
        return;
      }
      if (slot.origin) {
        this.#log.error({ workerPid: slot.worker.pid }, 'the worker holding the session producers died');
        this.close('worker_died');
        return;
      }
      const peers = [...slot.lostPeers];
      this.#log.error({ workerPid: slot.worker.pid, peers: peers.length }, 'a viewer router worker died');
      if (peers.length > 0) this.safeEmit('peersdisconnected', peers);
    });
    this.observer.safeEmit('newrouter', { router: slot.router, origin: slot.origin, workerPid: slot.worker.pid });
  }

  #pipe(producerId: string, slot: RouterSlot): Promise<void> {
    const key = `${producerId} ${slot.router.id}`;
    let piping = this.#pipes.get(key);
    if (!piping) {
      const { ip } = this.#opts.listen;
      piping = this.#origin.router
        .pipeToRouter({ producerId, router: slot.router, listenInfo: { protocol: 'udp', ip: loopbackFor(ip), portRange: this.#opts.listen.portRange } })
        .then(() => {
          this.observer.safeEmit('pipe', { producerId, toRouterId: slot.router.id });
        })
        .catch((err: unknown) => {
          this.#pipes.delete(key);
          throw mediasoupError(`pipe ${producerId} to router ${slot.router.id}`, err);
        });
      this.#pipes.set(key, piping);
    }
    return piping;
  }
}

function slotLoad(slot: RouterSlot): number {
  let load = slot.pending;
  for (const t of slot.transports) if (t.direction === 'recv') load += Math.max(1, t.consumers.size);
  return load;
}

/** Routers of one session are piped inside this host: an IPv6 listen address gets the IPv6 loopback. */
function loopbackFor(ip: string): string {
  return ip.includes(':') ? '::1' : '127.0.0.1';
}

/** mediasoup rejects bad input with TypeError or UnsupportedError, and closed objects with InvalidStateError. */
function mediasoupError(what: string, err: unknown): PolyglotError {
  if (PolyglotError.is(err)) return err;
  if (err instanceof Error) {
    if (err.name === 'TypeError' || err.name === 'UnsupportedError') return new InvalidArgumentError(`${what}: ${err.message}`, err);
    if (err.name === 'InvalidStateError') return new InvalidStateError(`${what}: ${err.message}`, err);
  }
  return new InternalError(`${what} failed`, err);
}

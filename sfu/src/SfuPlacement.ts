import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { KV, Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { InternalError, PolyglotError, UnavailableError, type ErrorCode } from '../../core/src/errors.js';
import { SafeEmitter } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import {
  decodeNodeMessage,
  decodePlaceRequest,
  encode,
  errorToWire,
  placeResultSchema,
  type NodeLoad,
  type NodeMessage,
  type PlaceResult,
  type Reply,
} from '../../core/src/sfu/rpcProtocol.js';
import { SFU_ANNOUNCE_SUBJECT, SFU_PLACE_SUBJECT, SFU_PLACEMENT_BUCKET } from '../../core/src/subjects.js';

const moduleLogger = moduleLog('SfuPlacement');

/** Queue group of pc.v1.sfu.place: one node answers each request. */
const PLACE_QUEUE = 'sfu-place';
/** JetStream KV bucket holding session -> node claims (written only by SFU nodes). */
const PLACEMENT_BUCKET = SFU_PLACEMENT_BUCKET;

export interface SfuPlacementOptions {
  nc: NatsConnection;
  /** This node's id. */
  node: string;
  /** This node's load, announced to the others and weighed against theirs. */
  load: () => NodeLoad;
  /** Whether this node already has media of `session` (it then keeps it). */
  serves: (session: string) => boolean;
  announceIntervalMs: number;
  /** Placement claims expire after this (a session outliving it is simply claimed again). */
  placementTtlMs: number;
}

export type SfuPlacementObserverEvents = {
  /** One pc.v1.sfu.place request answered. */
  place: [{ code: 'ok' | ErrorCode; ms: number }];
};

interface KnownNode {
  load: NodeLoad;
  seenAt: number;
  intervalMs: number;
  /** Said goaway. */
  gone: boolean;
}

/** A node not heard from for this many announce intervals is taken for gone. */
const MISSED_ANNOUNCEMENTS = 3;
/** Nodes silent for this many intervals are forgotten altogether. */
const FORGET_AFTER_INTERVALS = 30;
const EMPTY_LOAD: NodeLoad = { workers: 0, sessions: 0, routers: 0, consumers: 0 };

/**
 * One SFU node's part in placement: announces its load on pc.v1.sfu.announce, keeps the other
 * nodes' announcements, and answers pc.v1.sfu.place with the least-loaded live node, claimed in the
 * KV bucket so every caller gets the same node for a session while that node lives.
 */
export class SfuPlacement {
  readonly observer = new SafeEmitter<SfuPlacementObserverEvents>();
  readonly #opts: SfuPlacementOptions;
  readonly #log: Logger;
  readonly #known = new Map<string, KnownNode>();
  readonly #subs: Subscription[];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #announceTimer: NodeJS.Timeout;
  /** This process's start, in every announcement: signaling tells a restart from a live node by it. */
  readonly #instance = randomUUID();
  #kv: Promise<KV | undefined> | undefined;
  #draining = false;

  /** Subscribes and announces at once; the caller flushes the connection before counting on it. */
  constructor(opts: SfuPlacementOptions) {
    this.#opts = opts;
    this.#log = moduleLogger.child({ node: opts.node });
    this.#subs = [
      opts.nc.subscribe(SFU_PLACE_SUBJECT, { queue: PLACE_QUEUE, callback: (_err, msg) => this.#track(this.#onPlace(msg)) }),
      opts.nc.subscribe(SFU_ANNOUNCE_SUBJECT, { callback: (_err, msg) => this.#onNodeMessage(msg) }),
    ];
    this.#announce();
    this.#announceTimer = setInterval(() => this.#announce(), opts.announceIntervalMs);
  }

  /**
   * Stops announcing and leaves the placement queue group (other nodes take new sessions), then
   * answers the requests already received, all refused: this node no longer takes sessions.
   */
  async drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    clearInterval(this.#announceTimer);
    await Promise.allSettled(this.#subs.map((sub) => sub.drain()));
    await Promise.allSettled([...this.#inFlight]);
  }

  /** Tells the other nodes this one is going away: they stop placing sessions on it. */
  goaway(): void {
    this.#publish({ v: 1, type: 'goaway', node: this.#opts.node, at: Date.now() });
  }

  /** Stops at once. Idempotent. */
  close(): void {
    this.#draining = true;
    clearInterval(this.#announceTimer);
    for (const sub of this.#subs) sub.unsubscribe();
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #onPlace(msg: Msg): Promise<void> {
    const started = performance.now();
    let reply: Reply<PlaceResult>;
    try {
      const { session } = decodePlaceRequest(msg.data);
      reply = { ok: true, result: await this.#place(session) };
    } catch (err) {
      reply = { ok: false, error: errorToWire(err) };
      if (PolyglotError.is(err) && !(err instanceof InternalError)) this.#log.debug({ method: 'place', err }, 'RPC refused');
      else this.#log.error({ method: 'place', err }, 'RPC failed');
    }
    try {
      msg.respond(encode(reply));
    } catch (err) {
      // The connection is closing; the requester times out, which is what it would see anyway.
      this.#log.warn({ err }, 'could not send a placement reply');
    }
    this.observer.safeEmit('place', { code: reply.ok ? 'ok' : reply.error.code, ms: performance.now() - started });
  }

  #publish(message: NodeMessage): void {
    try {
      this.#opts.nc.publish(SFU_ANNOUNCE_SUBJECT, encode(message));
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
    const { node, announceIntervalMs: intervalMs } = this.#opts;
    this.#publish({ v: 1, type: 'announce', node, instance: this.#instance, at: Date.now(), intervalMs, load: this.#opts.load() });
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
    if (isNew && message.node !== this.#opts.node) this.#announce();
  }

  #alive(node: string): boolean {
    if (node === this.#opts.node) return !this.#draining;
    const known = this.#known.get(node);
    return known !== undefined && !known.gone && Date.now() - known.seenAt <= MISSED_ANNOUNCEMENTS * known.intervalMs;
  }

  /** The live node with the fewest consumers, then sessions; this node when it knows no other. */
  #leastLoadedNode(): string {
    let best = this.#opts.node;
    let bestLoad = this.#opts.load();
    for (const [node, { load }] of this.#known) {
      if (node === this.#opts.node || !this.#alive(node)) continue;
      if (load.consumers < bestLoad.consumers || (load.consumers === bestLoad.consumers && load.sessions < bestLoad.sessions)) {
        best = node;
        bestLoad = load;
      }
    }
    return best;
  }

  async #place(session: string): Promise<PlaceResult> {
    const self = this.#opts.node;
    if (this.#draining) throw new UnavailableError('this SFU node is shutting down');
    if (this.#opts.serves(session)) return { node: self };
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
    this.#kv ??= this.#opts.nc
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

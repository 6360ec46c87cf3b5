import * as grpc from '@grpc/grpc-js';
import { Events, type NatsConnection, type Subscription } from 'nats';
import { pino, type Logger } from 'pino';

import { onceEvent, SafeEmitter } from '../../../core/src/events.js';
import { WORKER_ANNOUNCE_SUBJECT } from '../../../core/src/subjects.js';
import { acceptsLanguage, acceptsPair } from '../../../proto/src/index.js';
import { decodeWorkerMessage, type WorkerAnnouncement, type WorkerKindName } from '../../sdk/src/index.js';
import type { WorkerDirectory } from './WorkerDirectory.js';

/** What the registry knows about one live worker. */
export interface WorkerInfo {
  readonly id: string;
  readonly kind: WorkerKindName;
  readonly engine: string;
  readonly languages: readonly string[];
  readonly pairs: readonly { source: string; target: string }[];
  /** host:port of its gRPC server. */
  readonly address: string;
  /** It serves TLS; `credentials` then verify its certificate against the registry's CA. */
  readonly tls: boolean;
  /** What a gRPC client of this worker connects with. */
  readonly credentials: grpc.ChannelCredentials;
  /** 0: no limit of its own. */
  readonly maxStreams: number;
  /** As last announced. */
  readonly activeStreams: number;
  readonly serving: boolean;
  readonly version: string;
  readonly metricsUrl: string | undefined;
  readonly ttlMs: number;
  /** When its last announcement arrived (performance.now()). */
  readonly lastSeenAt: number;
}

export type WorkerRemovedReason = 'goodbye' | 'expired';

export type WorkerRegistryEvents = {
  /** A worker announced itself for the first time (or again after it was removed). */
  workerAdded: [WorkerInfo];
  /** A worker said goodbye, or its TTL passed without an announcement. */
  workerRemoved: [WorkerInfo, WorkerRemovedReason];
};

export type WorkerRegistryObserverEvents = {
  announcement: [WorkerInfo];
  rejected: [{ reason: string }];
  close: [];
};

/** How the platform verifies TLS workers (PC_WORKER_TLS_CA), and its client certificate for mutual TLS. */
export interface WorkerClientTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface WorkerRegistryOptions {
  nats: NatsConnection;
  subject?: string;
  log?: Logger;
  /**
   * Without it, a worker that announces TLS is not used (its certificate could not be verified).
   * A worker that announces a plaintext address beyond loopback is never used, with or without it.
   */
  tls?: WorkerClientTls;
}

const INSECURE = grpc.credentials.createInsecure();

/** An announced address on this machine: host 127.x, ::1 or localhost. */
function isLoopbackAddress(address: string): boolean {
  const host = address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export interface PickOptions {
  /** Worker ids not to pick (those that already failed this caller). */
  exclude?: ReadonlySet<string>;
  /** Only workers of this engine (as announced, e.g. 'apertium'). */
  engine?: string;
}

interface Entry {
  info: WorkerInfo;
  timer: NodeJS.Timeout;
  /** Streams handed out by pick() since the last announcement, which cannot count them yet. */
  picked: number;
  /** reportFailure() was called and no announcement came since. */
  suspect: boolean;
}

/**
 * The live language workers, as their announcements on NATS describe them (core side). A worker
 * is added on its first announcement, refreshed by each one, and removed on its goodbye or when
 * its TTL passes without one (a crashed worker). pick*() choose the least-loaded worker that is
 * serving, not suspect and not full, for a language (speech) or a pair (translation).
 */
export class WorkerRegistry extends SafeEmitter<WorkerRegistryEvents> implements WorkerDirectory {
  readonly observer: SafeEmitter<WorkerRegistryObserverEvents>;
  readonly #entries = new Map<string, Entry>();
  readonly #subscription: Subscription;
  readonly #log: Logger;
  #roundRobin = 0;
  #closed = false;
  /** Disconnected from NATS: announcements cannot reach us, so silence says nothing about a worker. */
  #natsDown = false;
  readonly #stopStatus: () => void;
  /** Ids of workers refused (logged once each). */
  readonly #refused = new Set<string>();
  #tlsCredentials: grpc.ChannelCredentials | undefined;

  private constructor(nats: NatsConnection, subject: string, log: Logger) {
    super(log);
    this.observer = new SafeEmitter(log);
    this.#log = log;
    const status = nats.status();
    // nats.js returns a QueuedIterator here but types it as a plain AsyncIterable.
    const stop: unknown = Reflect.get(status, 'stop');
    this.#stopStatus = typeof stop === 'function' ? () => Reflect.apply(stop, status, []) : () => undefined;
    void (async () => {
      for await (const s of status) {
        if (s.type === Events.Disconnect) this.#natsDown = true;
        if (s.type === Events.Reconnect) {
          this.#natsDown = false;
          // A full TTL from now: each live worker's next announcement is on its way.
          for (const entry of this.#entries.values()) entry.timer.refresh();
        }
      }
    })();
    this.#subscription = nats.subscribe(subject, {
      callback: (err, msg) => {
        if (err) this.#log.warn({ err }, 'registry subscription error');
        else this.#onMessage(msg.data);
      },
    });
  }

  /** Subscribes and resolves once the server has the subscription: no announcement after that is missed. */
  static async start({ nats, subject = WORKER_ANNOUNCE_SUBJECT, log = pino({ level: 'silent' }), tls }: WorkerRegistryOptions): Promise<WorkerRegistry> {
    const registry = new WorkerRegistry(nats, subject, log.child({ module: 'WorkerRegistry' }));
    if (tls) registry.#tlsCredentials = grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
    await nats.flush();
    return registry;
  }

  /** Every live worker (serving or not). */
  workers(): WorkerInfo[] {
    return [...this.#entries.values()].map((entry) => entry.info);
  }

  get(id: string): WorkerInfo | undefined {
    return this.#entries.get(id)?.info;
  }

  /** The least-loaded usable speech-to-text worker for `language`, or undefined. */
  pickSpeechWorker(language: string, options: PickOptions = {}): WorkerInfo | undefined {
    return this.#pick((info) => info.kind === 'SPEECH_TO_TEXT' && acceptsLanguage(info.languages, language), options);
  }

  /** The least-loaded usable translation worker for `source` -> `target`, or undefined. */
  pickTranslationWorker(source: string, target: string, options: PickOptions = {}): WorkerInfo | undefined {
    return this.#pick((info) => info.kind === 'TRANSLATION' && acceptsPair(info.pairs, source, target), options);
  }

  /** Resolves with a pick as soon as one is possible; rejects with the signal's reason. */
  waitForSpeechWorker(language: string, signal: AbortSignal, options: PickOptions = {}): Promise<WorkerInfo> {
    return this.#waitFor(() => this.pickSpeechWorker(language, options), signal);
  }

  waitForTranslationWorker(source: string, target: string, signal: AbortSignal, options: PickOptions = {}): Promise<WorkerInfo> {
    return this.#waitFor(() => this.pickTranslationWorker(source, target, options), signal);
  }

  /**
   * A call to this worker failed in a way that suggests it is gone (UNAVAILABLE, a broken
   * stream): pick nothing from it until it announces again. A crashed worker never does and
   * leaves at its TTL; a live one is back within an announce interval.
   */
  reportFailure(id: string): void {
    const entry = this.#entries.get(id);
    if (entry) entry.suspect = true;
  }

  /** A stream picked from this worker ended before the worker could announce it. */
  release(id: string): void {
    const entry = this.#entries.get(id);
    if (entry && entry.picked > 0) entry.picked--;
  }

  /** Unsubscribes and forgets every worker, without events. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopStatus();
    this.#subscription.unsubscribe();
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
    this.observer.safeEmit('close');
  }

  /**
   * WorkerDirectory for the TranslationClient: a Translate call is one-shot, so it does not count
   * as an open stream against the worker's load.
   */
  pickTranslator(pair: { source: string; target: string }, engine: string): { address: string; id: string; tls?: grpc.ChannelCredentials } | undefined {
    const worker = this.pickTranslationWorker(pair.source, pair.target, { engine });
    if (!worker) return undefined;
    this.release(worker.id);
    return { address: worker.address, id: worker.id, ...(worker.tls ? { tls: worker.credentials } : {}) };
  }

  /** Engines whose serving workers announce `pair`, in no particular order. */
  enginesFor(pair: { source: string; target: string }): string[] {
    const engines = new Set<string>();
    for (const { info } of this.#entries.values()) {
      if (info.kind === 'TRANSLATION' && info.serving && acceptsPair(info.pairs, pair.source, pair.target)) engines.add(info.engine);
    }
    return [...engines];
  }

  #pick(matches: (info: WorkerInfo) => boolean, { exclude, engine }: PickOptions): WorkerInfo | undefined {
    let best: Entry[] = [];
    let bestLoad = Infinity;
    for (const entry of this.#entries.values()) {
      const { info } = entry;
      if (!info.serving || entry.suspect || exclude?.has(info.id) || (engine !== undefined && info.engine !== engine) || !matches(info)) continue;
      const streams = info.activeStreams + entry.picked;
      if (info.maxStreams > 0 && streams >= info.maxStreams) continue;
      // Share of capacity in use; a worker without a limit of its own counts as very large.
      const load = streams / (info.maxStreams > 0 ? info.maxStreams : 1_000);
      if (load < bestLoad) {
        best = [entry];
        bestLoad = load;
      } else if (load === bestLoad) best.push(entry);
    }
    // Equal loads take turns, so a burst of picks between two announcements spreads out.
    const chosen = best[this.#roundRobin++ % Math.max(1, best.length)];
    if (!chosen) return undefined;
    chosen.picked++;
    return chosen.info;
  }

  async #waitFor(pick: () => WorkerInfo | undefined, signal: AbortSignal): Promise<WorkerInfo> {
    for (;;) {
      const picked = pick();
      if (picked) return picked;
      // Any announcement may make a worker usable (new, serving again, no longer full or suspect).
      await onceEvent(this.observer, 'announcement', signal);
    }
  }

  #onMessage(data: Uint8Array): void {
    if (this.#closed) return;
    let message;
    try {
      message = decodeWorkerMessage(data);
    } catch (err) {
      this.#log.debug({ err }, 'registry message ignored');
      this.observer.safeEmit('rejected', { reason: err instanceof Error ? err.message : String(err) });
      return;
    }
    if (message.type === 'goodbye') this.#remove(message.id, 'goodbye');
    else this.#upsert(message);
  }

  #upsert(announcement: WorkerAnnouncement): void {
    const refusal = announcement.tls
      ? this.#tlsCredentials === undefined
        ? 'it serves TLS and no CA is configured to verify it (PC_WORKER_TLS_CA)'
        : undefined
      : isLoopbackAddress(announcement.address)
        ? undefined
        : 'it serves plaintext beyond loopback';
    if (refusal !== undefined) {
      if (!this.#refused.has(announcement.id)) this.#log.warn({ workerId: announcement.id, address: announcement.address }, `worker not used: ${refusal}`);
      this.#refused.add(announcement.id);
      return;
    }
    const info: WorkerInfo = {
      id: announcement.id,
      kind: announcement.kind,
      engine: announcement.engine,
      languages: announcement.languages,
      pairs: announcement.pairs,
      address: announcement.address,
      tls: announcement.tls,
      credentials: announcement.tls && this.#tlsCredentials ? this.#tlsCredentials : INSECURE,
      maxStreams: announcement.maxStreams,
      activeStreams: announcement.activeStreams,
      serving: announcement.serving,
      version: announcement.version,
      metricsUrl: announcement.metricsUrl,
      ttlMs: announcement.ttlMs,
      lastSeenAt: performance.now(),
    };
    const existing = this.#entries.get(info.id);
    if (existing) {
      existing.info = info;
      existing.picked = 0;
      existing.suspect = false;
      existing.timer.refresh();
      this.observer.safeEmit('announcement', info);
      return;
    }
    // A NATS outage keeps the workers (their gRPC still answers) instead of expiring them all, which
    // would fail every translation until they announce again after the reconnect.
    const timer = setTimeout(() => (this.#natsDown ? timer.refresh() : this.#remove(info.id, 'expired')), info.ttlMs);
    timer.unref();
    this.#entries.set(info.id, { info, timer, picked: 0, suspect: false });
    this.#log.info({ workerId: info.id, kind: info.kind, engine: info.engine, address: info.address }, 'worker added');
    this.safeEmit('workerAdded', info);
    this.observer.safeEmit('announcement', info);
  }

  #remove(id: string, reason: WorkerRemovedReason): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#entries.delete(id);
    this.#log.info({ workerId: id, reason }, 'worker removed');
    this.safeEmit('workerRemoved', entry.info, reason);
  }
}

import { randomBytes } from 'node:crypto';
import os from 'node:os';

import * as grpc from '@grpc/grpc-js';
import { connect, type NatsConnection } from 'nats';
import { pino, type Logger } from 'pino';

import { HealthService, loadContract, SERVICE_NAMES, type WorkerDescription, type WorkerHandlers } from '../../../proto/src/index.js';
import { DEFAULT_ANNOUNCE_INTERVAL_MS, type WorkerKindName } from '../../../core/src/workers/workerMessage.js';
import { CallGate } from './CallGate.js';
import { UnavailableError } from '../../../core/src/errors.js';
import { natsConnectOptions, type NatsAuth } from '../../../core/src/natsConnectOptions.js';
import { SafeEmitter } from '../../../core/src/events.js';
import { toServiceError } from './grpcStatus.js';
import { MetricsServer } from './MetricsServer.js';
import { RegistryAnnouncer } from './RegistryAnnouncer.js';
import { WorkerMetrics } from './WorkerMetrics.js';
import type { WorkerService } from './WorkerService.js';

/** Everything about a worker except its engine. Every field has a default. */
export interface WorkerTlsOptions {
  cert: Buffer;
  key: Buffer;
  /** Clients' CA: set, and the worker requires and verifies a client certificate. */
  ca?: Buffer;
}

export class InsecureBindError extends Error {
  constructor(host: string) {
    super(
      `refusing to serve gRPC on ${host} without TLS: anyone who reaches it could spend the engine's quota. ` +
        'Set PC_WORKER_TLS_CERT and PC_WORKER_TLS_KEY (and PC_WORKER_TLS_CA for mutual TLS), or bind PC_GRPC_HOST=127.0.0.1',
    );
    this.name = new.target.name;
  }
}

export interface WorkerOptions {
  /** Unique in the deployment; default `<engine>-<hostname>-<pid>-<random>`. */
  id?: string;
  /** gRPC bind address; default 127.0.0.1. */
  host?: string;
  /** gRPC port; default 0 (a free port, announced to the registry). */
  port?: number;
  /** host:port the registry hands to clients; default `<host>:<bound port>` (the hostname when host is a wildcard). */
  advertiseAddress?: string;
  /** NATS server for registry announcements. Ignored when `nats` is given; with neither, nothing is announced. */
  natsUrl?: string;
  /**
   * Serve gRPC over TLS with this certificate (PEM); with `ca`, clients must present a certificate
   * it signed (mutual TLS). Required to bind beyond loopback: a plaintext worker reachable from the
   * network would spend the operator's engine quota for anyone who can reach it.
   */
  tls?: WorkerTlsOptions;
  /** NATS credentials (the worker role's user); else the URL's userinfo. */
  natsAuth?: NatsAuth;
  /** An open NATS connection to announce on; the worker does not close it. */
  nats?: NatsConnection;
  /** Default 2000; registries forget the worker after 3 intervals without an announcement. */
  announceIntervalMs?: number;
  /** NATS subject of the registry; default pc.v1.workers.announce (tests use their own). */
  registrySubject?: string;
  /** Default 127.0.0.1. */
  metricsHost?: string;
  /** HTTP /metrics and /healthz; default 0 (a free port, announced as metricsUrl); null: no HTTP server. */
  metricsPort?: number | null;
  /** How long shutdown waits for calls in flight before cancelling them; default 5000. */
  drainTimeoutMs?: number;
  /** Lowers the engine's maxStreams (never raises it above a non-zero engine limit). */
  maxStreams?: number;
  /** Worker software version for Describe and the registry; default 0.1.0. */
  version?: string;
  /** Default: a pino logger on stdout at info. */
  log?: Logger;
}

export type WorkerMethod = 'StreamingRecognize' | 'Translate';

/** Monitoring only (metrics subscribe here); never drives control flow. */
export type WorkerObserverEvents = {
  callStarted: [{ method: WorkerMethod }];
  callEnded: [{ method: WorkerMethod; code: grpc.status; durationMs: number }];
  audioReceived: [{ bytes: number }];
  recognition: [{ isFinal: boolean }];
  translated: [{ texts: number; targets: readonly string[]; characters: number }];
  announced: [];
  close: [];
};

export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;
const VERSION = '0.1.0';

/**
 * A running language worker: one gRPC server with the engine's service, Worker.Describe and
 * grpc.health.v1; announcements to the registry on NATS; Prometheus metrics over HTTP; and a
 * graceful shutdown. Built by createSpeechWorker() / createTranslationWorker().
 */
export class LanguageWorker {
  readonly id: string;
  readonly kind: WorkerKindName;
  readonly engine: string;
  /** host:port as announced. */
  readonly address: string;
  readonly observer: SafeEmitter<WorkerObserverEvents>;
  readonly #service: WorkerService;
  readonly #server: grpc.Server;
  readonly #health: HealthService;
  readonly #gate: CallGate;
  readonly #announcer: RegistryAnnouncer | undefined;
  readonly #ownNats: NatsConnection | undefined;
  readonly #metricsServer: MetricsServer | undefined;
  readonly #drainTimeoutMs: number;
  readonly #version: string;
  readonly #log: Logger;
  /** Shared with the Describe handler, which answers UNAVAILABLE once shutdown began. */
  readonly #lifecycle: { shuttingDown: boolean };
  #shutdown: Promise<void> | undefined;

  private constructor(init: {
    id: string;
    address: string;
    service: WorkerService;
    server: grpc.Server;
    health: HealthService;
    gate: CallGate;
    announcer: RegistryAnnouncer | undefined;
    ownNats: NatsConnection | undefined;
    metricsServer: MetricsServer | undefined;
    observer: SafeEmitter<WorkerObserverEvents>;
    drainTimeoutMs: number;
    version: string;
    log: Logger;
    lifecycle: { shuttingDown: boolean };
  }) {
    this.#lifecycle = init.lifecycle;
    this.id = init.id;
    this.kind = init.service.kind;
    this.engine = init.service.engineName;
    this.address = init.address;
    this.#service = init.service;
    this.#server = init.server;
    this.#health = init.health;
    this.#gate = init.gate;
    this.#announcer = init.announcer;
    this.#ownNats = init.ownNats;
    this.#metricsServer = init.metricsServer;
    this.observer = init.observer;
    this.#drainTimeoutMs = init.drainTimeoutMs;
    this.#version = init.version;
    this.#log = init.log;
  }

  /** Starts a worker around `service`; throws (after releasing what it opened) when a port or NATS fails. */
  static async start(service: WorkerService, options: WorkerOptions = {}): Promise<LanguageWorker> {
    const {
      host = '127.0.0.1',
      port = 0,
      announceIntervalMs = DEFAULT_ANNOUNCE_INTERVAL_MS,
      metricsHost = '127.0.0.1',
      metricsPort = 0,
      drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS,
      version = VERSION,
    } = options;
    const id = options.id ?? `${service.engineName}-${os.hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    const log = (options.log ?? pino()).child({ workerId: id, engine: service.engineName });
    const maxStreams = effectiveMaxStreams(service.maxStreams, options.maxStreams);
    for (const [key, value] of Object.entries({ port, announceIntervalMs, drainTimeoutMs })) {
      if (!Number.isInteger(value) || value < 0) throw new TypeError(`worker options: ${key} must be an integer >= 0 (got ${value})`);
    }

    if (!options.tls && !isLoopback(host)) throw new InsecureBindError(host);

    const observer = new SafeEmitter<WorkerObserverEvents>(log);
    const gate = new CallGate(maxStreams);
    const health = new HealthService({ services: [service.serviceName, SERVICE_NAMES.Worker] });
    const server = new grpc.Server({
      // Find clients that vanished without closing their streams (a crashed SFU), so their slots free up.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    });
    service.addTo(server, { gate, log, observer });
    health.addToServer(server);

    const lifecycle = { shuttingDown: false };
    const description = (): WorkerDescription => ({
      id,
      kind: service.kind,
      engine: service.engineName,
      languages: [...service.languages],
      pairs: service.pairs.map((pair) => ({ source: pair.source, target: pair.target })),
      maxConcurrentStreams: maxStreams,
      version,
    });
    const describe: WorkerHandlers = {
      Describe: (_call, callback) => {
        if (lifecycle.shuttingDown) callback(toServiceError(new UnavailableError('this worker is shutting down')));
        else callback(null, description());
      },
    };
    server.addService(loadContract().Worker.service, describe);

    let ownNats: NatsConnection | undefined;
    let metricsServer: MetricsServer | undefined;
    try {
      const boundPort = await new Promise<number>((resolve, reject) => {
        const credentials = options.tls
          ? grpc.ServerCredentials.createSsl(options.tls.ca ?? null, [{ private_key: options.tls.key, cert_chain: options.tls.cert }], options.tls.ca !== undefined)
          : grpc.ServerCredentials.createInsecure();
        server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, credentials, (err, bound) =>
          err ? reject(err) : resolve(bound),
        );
      });
      const advertised = options.advertiseAddress ?? `${isWildcard(host) ? os.hostname() : host}:${boundPort}`;

      const metrics = new WorkerMetrics({
        observer,
        labels: { worker: id, engine: service.engineName, kind: service.kind },
        activeCalls: () => gate.active,
        maxCalls: maxStreams,
        serving: () => health.getStatus() === 'SERVING',
      });
      if (metricsPort !== null) {
        metricsServer = await MetricsServer.start({
          registry: metrics.registry,
          serving: () => health.getStatus() === 'SERVING',
          host: metricsHost,
          port: metricsPort,
          log,
        });
      }

      let nats = options.nats;
      if (!nats && options.natsUrl) {
        ownNats = await connect({ ...natsConnectOptions(options.natsUrl, options.natsAuth), name: id, maxReconnectAttempts: -1 });
        nats = ownNats;
      }
      const announcer = nats
        ? new RegistryAnnouncer({
            nats,
            intervalMs: announceIntervalMs,
            ...(options.registrySubject !== undefined ? { subject: options.registrySubject } : {}),
            log,
            onAnnounced: () => observer.safeEmit('announced'),
            state: () => ({
              id,
              kind: service.kind,
              engine: service.engineName,
              languages: [...service.languages],
              pairs: service.pairs.map((pair) => ({ source: pair.source, target: pair.target })),
              address: advertised,
              tls: options.tls !== undefined,
              maxStreams,
              activeStreams: gate.active,
              serving: health.getStatus() === 'SERVING',
              version,
              ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
            }),
          })
        : undefined;

      const worker = new LanguageWorker({
        id,
        address: advertised,
        service,
        server,
        health,
        gate,
        announcer,
        ownNats,
        metricsServer,
        observer,
        drainTimeoutMs,
        version,
        log,
        lifecycle,
      });
      health.setStatus('SERVING');
      announcer?.start();
      log.info({ address: advertised, metricsUrl: metricsServer?.url, maxStreams, languages: service.languages, pairs: service.pairs.length }, 'worker ready');
      return worker;
    } catch (err) {
      server.forceShutdown();
      await metricsServer?.close();
      await ownNats?.close();
      throw err;
    }
  }

  /** Calls in flight (streams for speech, Translate calls for translation). */
  get activeStreams(): number {
    return this.#gate.active;
  }

  get metricsUrl(): string | undefined {
    return this.#metricsServer?.url;
  }

  get version(): string {
    return this.#version;
  }

  /** Announcements published so far. */
  get announcements(): number {
    return this.#announcer?.announced ?? 0;
  }

  /** Whether grpc.health reports SERVING. */
  get serving(): boolean {
    return this.#health.getStatus() === 'SERVING';
  }

  /**
   * Graceful stop, idempotent: stop announcing and say goodbye (registries drop the worker at
   * once), report NOT_SERVING, refuse new calls with UNAVAILABLE, let calls in flight finish
   * (speech streams flush their finals, then end with UNAVAILABLE so their clients move on)
   * within `drainTimeoutMs`, cancel what is left, then close the server, the engine and NATS.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /** Runs shutdown() on the first of `signals`, then exits the process (code 0, or 1 if shutdown failed). */
  closeOnSignals(signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      for (const s of signals) process.off(s, onSignal);
      this.#log.info({ signal }, 'signal received, shutting down');
      this.shutdown().then(
        () => process.exit(0),
        (err: unknown) => {
          this.#log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    for (const signal of signals) process.on(signal, onSignal);
  }

  async #doShutdown(): Promise<void> {
    const started = performance.now();
    this.#lifecycle.shuttingDown = true;
    this.#log.info({ activeStreams: this.#gate.active }, 'shutting down');
    await this.#announcer?.stop(this.kind, this.id);
    this.#health.setStatus('NOT_SERVING');
    this.#gate.close();
    this.#service.windDown();

    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.#gate.idle().then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#drainTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained) {
      this.#log.warn({ activeStreams: this.#gate.active, drainTimeoutMs: this.#drainTimeoutMs }, 'calls still in flight after the drain bound; cancelling them');
      const reason = new UnavailableError('this worker is shutting down; retry on another worker');
      this.#service.abortAll(reason);
      this.#gate.abortAll(reason);
    }
    // Every call has ended by now; a client that keeps an idle connection open must not hold us.
    const closed = await Promise.race([
      new Promise<true>((resolve) => this.#server.tryShutdown(() => resolve(true))),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), 1_000);
      }),
    ]);
    clearTimeout(timer);
    if (!closed) this.#server.forceShutdown();
    await Promise.allSettled([
      this.#service.closeEngine().catch((err: unknown) => this.#log.warn({ err }, 'engine close failed')),
      this.#ownNats?.close(),
      this.#metricsServer?.close(),
    ]);
    this.#log.info({ drained, ms: Math.round(performance.now() - started) }, 'worker stopped');
    this.observer.safeEmit('close');
  }
}

function effectiveMaxStreams(engineMax: number, optionMax: number | undefined): number {
  if (optionMax === undefined) return engineMax;
  if (!Number.isInteger(optionMax) || optionMax < 0) throw new TypeError(`worker options: maxStreams must be an integer >= 0 (got ${optionMax})`);
  if (engineMax === 0) return optionMax;
  if (optionMax === 0) return engineMax;
  return Math.min(engineMax, optionMax);
}

/** Reachable from this machine only. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

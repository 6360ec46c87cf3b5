import { once } from 'node:events';
import os from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { moduleLog } from '../../core/src/log.js';
import { InvalidStateError, UnavailableError } from '../../core/src/errors.js';
import { SafeEmitter } from '../../core/src/events.js';

const moduleLogger = moduleLog('MediaWorkerPool');

export interface MediaWorkerPoolOptions {
  /** The mediasoup-worker binary (workerBinary.ts). */
  workerBin: string;
  /** How many workers; default one per core. */
  size?: number;
  logLevel?: types.WorkerLogLevel;
}

export type MediaWorkerPoolEvents = {
  /** A worker process died; mediasoup already closed its routers (each emitted 'workerclose'). */
  workerdied: [{ pid: number; error: Error }];
};

export type MediaWorkerPoolObserverEvents = {
  newworker: [types.Worker];
  workerdied: [{ pid: number; error: Error }];
  close: [];
};

interface WorkerLoad {
  worker: types.Worker;
  routers: number;
  consumers: number;
}

/**
 * A fixed number of mediasoup workers. Load is the number of consumers on a worker (what costs CPU
 * in an audio SFU: every viewer is one consumer), counted through mediasoup's observers, so routers
 * created by anyone on a pool worker are counted. A worker that dies is logged, reported, and
 * replaced; its routers' owners learn it from each router's 'workerclose'.
 */
export class MediaWorkerPool extends SafeEmitter<MediaWorkerPoolEvents> {
  readonly observer = new SafeEmitter<MediaWorkerPoolObserverEvents>();
  readonly #opts: Required<MediaWorkerPoolOptions>;
  readonly #workers = new Map<types.Worker, WorkerLoad>();
  /** Replacements in flight: close() cannot stop one, so it closes what it produces; closeAndWait() awaits them. */
  readonly #replacing = new Set<Promise<void>>();
  #closed = false;

  private constructor(opts: Required<MediaWorkerPoolOptions>) {
    super();
    this.#opts = opts;
  }

  /** Starts every worker; rejects (and closes those started) if one cannot start. */
  static async create({ workerBin, size = os.availableParallelism(), logLevel = 'warn' }: MediaWorkerPoolOptions): Promise<MediaWorkerPool> {
    if (!Number.isInteger(size) || size < 1) throw new TypeError(`size must be an integer >= 1, got ${size}`);
    const pool = new MediaWorkerPool({ workerBin, size, logLevel });
    try {
      await Promise.all(Array.from({ length: size }, () => pool.#startWorker()));
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get size(): number {
    return this.#workers.size;
  }

  /** Consumers on all workers. */
  get consumers(): number {
    let n = 0;
    for (const load of this.#workers.values()) n += load.consumers;
    return n;
  }

  /**
   * The live worker with the fewest consumers (then routers), preferring workers not in `avoid`
   * (the workers a session already uses, so a new router of that session lands elsewhere).
   */
  leastLoaded(avoid: ReadonlySet<types.Worker> = new Set()): types.Worker {
    if (this.#closed) throw new InvalidStateError('MediaWorkerPool closed');
    let best: WorkerLoad | undefined;
    let bestScore: [number, number, number] | undefined;
    for (const load of this.#workers.values()) {
      if (load.worker.closed) continue;
      const score: [number, number, number] = [avoid.has(load.worker) ? 1 : 0, load.consumers, load.routers];
      if (!bestScore || score[0] < bestScore[0] || (score[0] === bestScore[0] && (score[1] < bestScore[1] || (score[1] === bestScore[1] && score[2] < bestScore[2])))) {
        best = load;
        bestScore = score;
      }
    }
    if (!best) throw new UnavailableError('no live mediasoup worker');
    return best.worker;
  }

  /** Per worker: pid, routers, consumers (for metrics and dumps). */
  loads(): { pid: number; routers: number; consumers: number }[] {
    return [...this.#workers.values()].map(({ worker, routers, consumers }) => ({ pid: worker.pid, routers, consumers }));
  }

  workersForTesting(): types.Worker[] {
    return [...this.#workers.keys()];
  }

  /** close(), then waits until every worker subprocess has exited (a clean process exit needs it). */
  async closeAndWait(): Promise<void> {
    const exits = [...this.#workers.keys()].map((w) => (w.subprocessClosed ? Promise.resolve() : once(w, 'subprocessclose')));
    this.close();
    await Promise.allSettled([...exits, ...this.#replacing]);
  }

  /** Closes every worker (and so every router on them). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const worker of this.#workers.keys()) worker.close();
    this.#workers.clear();
    this.observer.safeEmit('close');
  }

  async #startWorker(): Promise<void> {
    const worker = await mediasoup.createWorker({
      workerBin: this.#opts.workerBin,
      logLevel: this.#opts.logLevel,
      logTags: ['info', 'ice', 'dtls', 'rtp', 'srtp', 'rtcp'],
    });
    if (this.#closed) {
      const exited = once(worker, 'subprocessclose');
      worker.close();
      await exited;
      return;
    }
    const load: WorkerLoad = { worker, routers: 0, consumers: 0 };
    this.#workers.set(worker, load);
    worker.observer.on('newrouter', (router) => {
      load.routers += 1;
      router.observer.once('close', () => (load.routers -= 1));
      router.observer.on('newtransport', (transport) => {
        transport.observer.on('newconsumer', (consumer) => {
          load.consumers += 1;
          consumer.observer.once('close', () => (load.consumers -= 1));
        });
      });
    });
    worker.once('died', (error) => this.#workerDied(worker, error));
    moduleLogger.info({ pid: worker.pid }, 'mediasoup worker started');
    this.observer.safeEmit('newworker', worker);
  }

  #workerDied(worker: types.Worker, error: Error): void {
    this.#workers.delete(worker);
    const info = { pid: worker.pid, error };
    moduleLogger.error({ pid: worker.pid, err: error }, 'mediasoup worker died; replacing it');
    this.safeEmit('workerdied', info);
    this.observer.safeEmit('workerdied', info);
    if (this.#closed) return;
    const replacing = this.#startWorker().catch((err: unknown) => {
      // The pool keeps serving on the workers it has; the next death tries again.
      moduleLogger.error({ err }, 'could not start a replacement mediasoup worker');
    });
    this.#replacing.add(replacing);
    void replacing.finally(() => this.#replacing.delete(replacing));
  }
}

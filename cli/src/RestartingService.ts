import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ServerProcess } from '../../core/src/infra/ServerProcess.js';

/** How `polyglot up` restarts a process that dies on its own. */
export interface RestartPolicy {
  /** Wait before the first restart; doubled for each further fast crash. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A process that ran less than this before dying crashed fast (it is likely to crash again). */
  fastCrashMs: number;
  /** Give up after this many fast crashes in a row. */
  maxFastCrashes: number;
  /** Each start's readiness bound. */
  readyTimeoutMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 15_000, fastCrashMs: 30_000, maxFastCrashes: 5, readyTimeoutMs: 60_000 };

export interface RestartingServiceOptions {
  name: string;
  /** Starts one instance of the process. */
  spawn: () => ServerProcess;
  /** The readiness probe (its own health endpoint). */
  ready: () => Promise<boolean>;
  policy?: RestartPolicy;
  log: Logger;
  /** Told each time a fresh instance is ready again after a crash (not the first start). */
  onRestarted?: (restarts: number) => void;
  /** Told the backoff chosen after each crash, before waiting it out. */
  onBackoff?: (delayMs: number) => void;
}

/**
 * One process kept running: when it exits on its own it is started again after an exponential
 * backoff, and the backoff resets once an instance has lived `fastCrashMs`. After
 * `maxFastCrashes` fast crashes in a row it gives up: `gaveUp` resolves with the reason (the caller
 * decides what that means for the rest). stop() ends it, and any pending restart, for good.
 */
export class RestartingService {
  readonly name: string;
  /** Resolves (never rejects) when restarting stops for good: given up, with why; never after stop(). */
  readonly gaveUp: Promise<string>;
  readonly #opts: RestartingServiceOptions;
  readonly #policy: RestartPolicy;
  readonly #log: Logger;
  readonly #stopped = new AbortController();
  #current: ServerProcess | undefined;
  #restarts = 0;
  #resolveGaveUp!: (reason: string) => void;
  #supervising: Promise<void> | undefined;

  constructor(opts: RestartingServiceOptions) {
    this.name = opts.name;
    this.#opts = opts;
    this.#policy = opts.policy ?? DEFAULT_RESTART_POLICY;
    this.#log = opts.log.child({ service: opts.name });
    this.gaveUp = new Promise((resolve) => (this.#resolveGaveUp = resolve));
  }

  /** Restarts so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The running instance's watchdog pid (the server is its child). */
  get pid(): number | undefined {
    return this.#current?.pid;
  }

  /** Starts the first instance and waits until it is ready; a first start that fails is not retried. */
  async start(): Promise<void> {
    if (this.#current) throw new Error(`${this.name} already started`);
    await this.#startOne();
    this.#supervising = this.#supervise();
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    this.#stopped.abort();
    await this.#current?.stop(timeoutMs);
    await this.#supervising;
  }

  async #startOne(): Promise<ServerProcess> {
    const proc = this.#opts.spawn();
    this.#current = proc;
    await proc.waitReady(this.#opts.ready, this.#policy.readyTimeoutMs);
    return proc;
  }

  async #supervise(): Promise<void> {
    const { initialDelayMs, maxDelayMs, fastCrashMs, maxFastCrashes } = this.#policy;
    let fastCrashes = 0;
    let startedAt = Date.now();
    for (;;) {
      const proc = this.#current;
      if (!proc) return;
      await proc.exited;
      if (this.#stopped.signal.aborted) return;
      const livedMs = Date.now() - startedAt;
      fastCrashes = livedMs < fastCrashMs ? fastCrashes + 1 : 1;
      if (fastCrashes >= maxFastCrashes) {
        const reason = `${this.name} crashed ${fastCrashes} times in a row, each within ${fastCrashMs} ms of starting; not restarting it again`;
        this.#log.error({ fastCrashes, livedMs }, reason);
        this.#resolveGaveUp(reason);
        return;
      }
      const waitMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (fastCrashes - 1));
      this.#log.warn({ livedMs, restartInMs: waitMs, fastCrashes }, `${this.name} stopped unexpectedly; restarting it`);
      this.#opts.onBackoff?.(waitMs);
      try {
        await delay(waitMs, undefined, { signal: this.#stopped.signal });
      } catch {
        return; // stop() during the backoff
      }
      startedAt = Date.now();
      try {
        await this.#startOne();
      } catch (err) {
        // Not ready: counted as one more fast crash when its exit (or our stop of it) is seen.
        this.#log.warn({ err }, `${this.name} did not come back ready`);
        await this.#current?.stop(5_000);
        continue;
      }
      this.#restarts += 1;
      this.#log.info({ restarts: this.#restarts }, `${this.name} restarted`);
      this.#opts.onRestarted?.(this.#restarts);
    }
  }
}

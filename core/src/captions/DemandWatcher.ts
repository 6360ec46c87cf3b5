import { setTimeout as delay } from 'node:timers/promises';
import { Events, type KV, type KvEntry, type NatsConnection, type QueuedIterator, type Status } from 'nats';
import type { Logger } from 'pino';
import { SafeEmitter } from '../events.js';
import { DEMAND_TTL_MS, demandValueSchema, openDemandBucket, type DemandValue } from './demandBucket.js';

export type DemandWatcherEvents = {
  /** The set of wanted languages changed: `added` became wanted, `removed` is wanted by nobody now. */
  change: [{ langs: ReadonlySet<string>; added: string[]; removed: string[] }];
  /** A node's entry was written, deleted or expired (its viewer counts may differ; see `nodes`). */
  nodes: [];
};

/**
 * One session's demand as every signaling node wrote it, from live entries only (see
 * demandBucket.ts for why expiry is ours): the union of the languages is the caption pipeline's
 * view; the per-node entries give signaling its viewer counts across nodes.
 */
export class DemandWatcher extends SafeEmitter<DemandWatcherEvents> {
  readonly session: string;
  readonly #kv: KV;
  readonly #status: AsyncIterable<Status>;
  readonly #stopStatus: () => void;
  #watch: QueuedIterator<KvEntry>;
  #closed = false;
  readonly #log: Logger;
  readonly #now: () => number;
  /** node -> its entry and when that node last wrote it */
  readonly #nodes = new Map<string, { value: DemandValue; at: number }>();
  #langs = new Set<string>();
  readonly #sweep: NodeJS.Timeout;
  readonly #pumps = new Set<Promise<void>>();
  readonly #rewatching: Promise<void>;

  private constructor(session: string, kv: KV, watch: QueuedIterator<KvEntry>, nc: NatsConnection, log: Logger, now: () => number) {
    super();
    this.session = session;
    this.#kv = kv;
    this.#watch = watch;
    const status = nc.status();
    this.#status = status;
    // nats.js returns a QueuedIterator here but types it as a plain AsyncIterable.
    const stop: unknown = Reflect.get(status, 'stop');
    this.#stopStatus = typeof stop === 'function' ? () => Reflect.apply(stop, status, []) : () => undefined;
    this.#log = log;
    this.#now = now;
    this.#sweep = setInterval(() => this.#recompute(), DEMAND_TTL_MS / 3);
    this.#pump(watch);
    this.#rewatching = this.#rewatchOnReconnect().catch((err: unknown) => this.#log.error({ err }, 'demand re-watch failed'));
  }

  static async open(nc: NatsConnection, session: string, log: Logger, now: () => number = Date.now): Promise<DemandWatcher> {
    const kv: KV = await openDemandBucket(nc);
    const watch = await kv.watch({ key: `${session}.*` });
    return new DemandWatcher(session, kv, watch, nc, log.child({ sessionId: session }), now);
  }

  #pump(watch: QueuedIterator<KvEntry>): void {
    const pump = (async () => {
      for await (const entry of watch) this.#apply(entry);
    })()
      .catch((err: unknown) => this.#log.error({ err }, 'demand watch ended'))
      .finally(() => this.#pumps.delete(pump));
    this.#pumps.add(pump);
  }

  /**
   * A watch is an ordered consumer in the server's memory: after a nats-server restart it silently
   * delivers nothing more, and every node's entry would look expired after DEMAND_TTL_MS, stopping
   * translations. So on each reconnect the watch is opened again; it starts with each node's
   * current entry, which #apply takes as it would any update.
   */
  async #rewatchOnReconnect(): Promise<void> {
    for await (const status of this.#status) {
      if (status.type !== Events.Reconnect) continue;
      for (let backoffMs = 100; !this.#closed; backoffMs = Math.min(backoffMs * 2, 2_000)) {
        try {
          const watch = await this.#kv.watch({ key: `${this.session}.*` });
          if (this.#closed) {
            watch.stop();
            return;
          }
          this.#watch.stop();
          this.#watch = watch;
          this.#pump(watch);
          break;
        } catch (err) {
          this.#log.warn({ err, backoffMs }, 'demand watch not reopened yet; retrying');
          await delay(backoffMs);
        }
      }
    }
  }

  /** Languages some viewer wants right now. */
  get langs(): ReadonlySet<string> {
    return this.#langs;
  }

  /** Each live node's entry, by node id. */
  get nodes(): ReadonlyMap<string, DemandValue> {
    const cutoff = this.#now() - DEMAND_TTL_MS;
    const live = new Map<string, DemandValue>();
    for (const [node, { value, at }] of this.#nodes) if (at >= cutoff) live.set(node, value);
    return live;
  }

  #apply(entry: KvEntry): void {
    const node = entry.key.slice(this.session.length + 1);
    if (entry.operation !== 'PUT') {
      this.#nodes.delete(node);
    } else {
      let value: unknown;
      try {
        value = JSON.parse(entry.string());
      } catch {
        value = undefined;
      }
      const parsed = demandValueSchema.safeParse(value);
      if (!parsed.success) {
        this.#log.warn({ key: entry.key }, 'malformed demand entry ignored');
        return;
      }
      this.#nodes.set(node, { value: parsed.data, at: entry.created.getTime() });
    }
    this.#recompute(true);
  }

  /** Drops expired entries and emits what changed; `entryChanged`: an entry was just written or deleted. */
  #recompute(entryChanged = false): void {
    const cutoff = this.#now() - DEMAND_TTL_MS;
    const next = new Set<string>();
    let expired = false;
    for (const [node, { value, at }] of this.#nodes) {
      if (at < cutoff) {
        this.#nodes.delete(node);
        expired = true;
        continue;
      }
      for (const lang of value.langs) next.add(lang);
    }
    const added = [...next].filter((l) => !this.#langs.has(l));
    const removed = [...this.#langs].filter((l) => !next.has(l));
    this.#langs = next;
    if (added.length > 0 || removed.length > 0) this.safeEmit('change', { langs: next, added, removed });
    if (expired || entryChanged) this.safeEmit('nodes');
  }

  /** Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#stopStatus();
    this.#watch.stop();
    await this.#rewatching;
    await Promise.all(this.#pumps);
  }
}

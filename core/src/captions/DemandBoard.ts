import type { KV, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { canonicalLanguageTag, tryCanonicalLanguageTag } from '../languages/languageTag.js';
import { demandKey } from '../subjects.js';
import { DEMAND_REFRESH_MS, openDemandBucket, type DemandValue } from './demandBucket.js';

/** Changes within this window are written together. */
const COALESCE_MS = 20;

/** A node's viewer sockets of one session: in total, and per caption language. */
export interface LocalViewers {
  count: number;
  byLanguage: Readonly<Record<string, number>>;
}

/**
 * A signaling node's side of language demand: how many local sockets read each language, and its
 * viewer counts, per session, written to the demand bucket when they change and refreshed while
 * they last.
 */
export class DemandBoard {
  readonly #kv: KV;
  readonly #node: string;
  readonly #log: Logger;
  /** session -> language -> local readers */
  readonly #counts = new Map<string, Map<string, number>>();
  /** session -> its local viewers, where some are connected */
  readonly #viewers = new Map<string, LocalViewers>();
  readonly #refresh: NodeJS.Timeout;
  /** Sessions whose entry changed and will be written at the end of the current burst. */
  readonly #dirty = new Set<string>();
  #flush: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(kv: KV, node: string, log: Logger) {
    this.#kv = kv;
    this.#node = node;
    this.#log = log;
    this.#refresh = setInterval(() => {
      for (const session of this.#sessions()) this.#write(session);
    }, DEMAND_REFRESH_MS);
  }

  static async open(nc: NatsConnection, node: string, log: Logger): Promise<DemandBoard> {
    return new DemandBoard(await openDemandBucket(nc), node, log.child({ node }));
  }

  /**
   * A viewer of `session` now reads `lang` (joined, or switched to it). Throws InvalidArgumentError
   * for a tag that is not a language: it would make this node's entry unreadable.
   */
  add(session: string, tag: string): void {
    const lang = canonicalLanguageTag(tag);
    const langs = this.#counts.get(session) ?? new Map<string, number>();
    this.#counts.set(session, langs);
    const before = langs.get(lang) ?? 0;
    langs.set(lang, before + 1);
    this.#markDirty(session);
  }

  /** A viewer of `session` stopped reading `lang` (left, or switched away). */
  remove(session: string, tag: string): void {
    const lang = tryCanonicalLanguageTag(tag);
    const langs = this.#counts.get(session);
    const before = lang === undefined ? undefined : langs?.get(lang);
    if (!langs || lang === undefined || before === undefined) return;
    if (before > 1) langs.set(lang, before - 1);
    else langs.delete(lang);
    if (langs.size === 0) this.#counts.delete(session);
    this.#markDirty(session);
  }

  /** The viewer counts of `session` on this node changed (a viewer joined, left or switched language). */
  setViewers(session: string, viewers: LocalViewers): void {
    if (viewers.count > 0) this.#viewers.set(session, { count: viewers.count, byLanguage: { ...viewers.byLanguage } });
    else if (!this.#viewers.delete(session)) return;
    this.#markDirty(session);
  }

  #sessions(): Set<string> {
    return new Set([...this.#counts.keys(), ...this.#viewers.keys()]);
  }

  /**
   * A join or leave storm (a node restarting, a session ending) changes the counts thousands of
   * times in a few milliseconds: the entry is written once per session per burst.
   */
  #markDirty(session: string): void {
    this.#dirty.add(session);
    this.#flush ??= setTimeout(() => {
      this.#flush = undefined;
      for (const dirty of this.#dirty) this.#write(dirty);
      this.#dirty.clear();
    }, COALESCE_MS);
  }

  #write(session: string): void {
    if (this.#closed) return;
    const langs = this.#counts.get(session);
    const viewers = this.#viewers.get(session);
    const key = demandKey(session, this.#node);
    const value: DemandValue = { langs: [...(langs?.keys() ?? [])], ...(viewers ? { viewers: { ...viewers.byLanguage }, viewerCount: viewers.count } : {}) };
    const op = langs || viewers ? this.#kv.put(key, JSON.stringify(value)) : this.#kv.delete(key);
    op.catch((err: unknown) => this.#log.warn({ err, session }, 'demand update failed; the next refresh retries'));
  }

  /** Stops refreshing and withdraws this node's demand. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#refresh);
    clearTimeout(this.#flush);
    this.#dirty.clear();
    await Promise.allSettled([...this.#sessions()].map((session) => this.#kv.delete(demandKey(session, this.#node))));
    this.#counts.clear();
    this.#viewers.clear();
  }
}

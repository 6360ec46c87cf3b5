import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { LocalViewers } from '../../core/src/captions/DemandBoard.js';
import { DemandWatcher } from '../../core/src/captions/DemandWatcher.js';
import { SafeEmitter } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';

const log = moduleLog('SessionAudience');

/** Where a node's viewer counts are written (core's DemandBoard). */
export interface ViewerBoard {
  setViewers(session: string, viewers: LocalViewers): void;
}

/** Viewers of a session: in total, and per caption language (viewers that chose none count only in `count`). */
export interface ViewerCounts {
  count: number;
  byLanguage: Record<string, number>;
}

export interface SessionAudienceOptions {
  nc: NatsConnection;
  session: string;
  nodeId: string;
  board: ViewerBoard;
  /** Milliseconds clock against which other nodes' entries expire; injectable for tests. */
  now?: () => number;
}

export type SessionAudienceEvents = {
  /** The session's counts over every node changed. */
  change: [counts: ViewerCounts];
};

/**
 * The viewers of one session across signaling nodes. This node's viewers are counted here, exactly,
 * and written to the demand bucket with the node's language demand; the other nodes' counts are
 * read from their entries in the same bucket (an entry past DEMAND_TTL_MS no longer counts: a node
 * that died).
 */
export class SessionAudience extends SafeEmitter<SessionAudienceEvents> {
  readonly session: string;
  readonly #nodeId: string;
  readonly #board: ViewerBoard;
  readonly #log: Logger;
  /** local viewer id -> the caption language it reads (undefined: none yet) */
  readonly #local = new Map<string, string | undefined>();
  readonly #localByLanguage = new Map<string, number>();
  /** The other nodes' entries, once the watch is open. */
  #watcher: DemandWatcher | undefined;
  readonly #opening: Promise<void>;
  #stopping: Promise<void> | undefined;
  /** The counts last emitted (or, before that, the initial none), as a comparable string. */
  #lastKey = countsKey({ count: 0, byLanguage: {} });
  #closed = false;

  constructor({ nc, session, nodeId, board, now = Date.now }: SessionAudienceOptions) {
    super();
    this.session = session;
    this.#nodeId = nodeId;
    this.#board = board;
    this.#log = log.child({ sessionId: session });
    this.#opening = DemandWatcher.open(nc, session, this.#log, now).then(
      (watcher) => {
        if (this.#closed) return watcher.close();
        this.#watcher = watcher;
        watcher.on('nodes', () => this.#emitIfChanged());
        this.#emitIfChanged();
      },
      (err: unknown) => {
        // Not fatal: hosts then see this node's viewers only.
        this.#log.warn({ err }, 'cannot watch the demand bucket; counting local viewers only');
      },
    );
  }

  /** The session's viewers on every node (this one exactly, the others as last written). */
  get counts(): ViewerCounts {
    let count = this.#local.size;
    const byLanguage: Record<string, number> = Object.fromEntries(this.#localByLanguage);
    for (const [node, entry] of this.#watcher?.nodes ?? []) {
      if (node === this.#nodeId) continue;
      count += entry.viewerCount ?? 0;
      for (const [lang, n] of Object.entries(entry.viewers ?? {})) byLanguage[lang] = (byLanguage[lang] ?? 0) + n;
    }
    return { count, byLanguage };
  }

  /** A local viewer joined (`lang` undefined) or now reads `lang`. */
  setViewer(id: string, lang: string | undefined): void {
    if (this.#closed) return;
    const had = this.#local.has(id);
    const previous = this.#local.get(id);
    if (had && previous === lang) return;
    if (previous !== undefined) this.#uncount(previous);
    if (lang !== undefined) this.#localByLanguage.set(lang, (this.#localByLanguage.get(lang) ?? 0) + 1);
    this.#local.set(id, lang);
    this.#localChanged();
  }

  /** A local viewer left. */
  removeViewer(id: string): void {
    if (this.#closed || !this.#local.has(id)) return;
    const lang = this.#local.get(id);
    this.#local.delete(id);
    if (lang !== undefined) this.#uncount(lang);
    this.#localChanged();
  }

  /** Parent-only (the room is closing): withdraws this node's viewers and stops watching. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#local.size > 0) this.#board.setViewers(this.session, { count: 0, byLanguage: {} });
    this.#local.clear();
    this.#localByLanguage.clear();
    this.#stopping = this.#watcher?.close();
  }

  /** Resolves once the bucket watch has stopped (after close()). */
  async settled(): Promise<void> {
    await this.#opening;
    await this.#stopping;
  }

  #uncount(lang: string): void {
    const n = (this.#localByLanguage.get(lang) ?? 0) - 1;
    if (n > 0) this.#localByLanguage.set(lang, n);
    else this.#localByLanguage.delete(lang);
  }

  #localChanged(): void {
    this.#board.setViewers(this.session, { count: this.#local.size, byLanguage: Object.fromEntries(this.#localByLanguage) });
    this.#emitIfChanged();
  }

  #emitIfChanged(): void {
    if (this.#closed) return;
    const counts = this.counts;
    const key = countsKey(counts);
    if (key === this.#lastKey) return;
    this.#lastKey = key;
    this.safeEmit('change', counts);
  }
}

function countsKey(counts: ViewerCounts): string {
  const byLanguage = Object.entries(counts.byLanguage)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([lang, n]) => `${lang}=${n}`);
  return `${counts.count}|${byLanguage.join(',')}`;
}

import { sql, type Kysely } from 'kysely';
import type { Database, Session } from '../../sql/src/index.js';
import { InvalidStateError, NotFoundError } from '../../core/src/errors.js';
import { SessionEndedError } from './errors.js';
import { placeholderEmailFor, userIdFor } from './identity.js';
import type { Principal } from './TokenVerifier.js';

export interface SessionStoreOptions {
  db: Kysely<Database>;
  /**
   * How long lookup() may answer from memory. A reconnect storm after a node drains (thousands of
   * viewers of one session) then costs one query per node instead of one per socket.
   */
  lookupCacheTtlMs?: number;
  now?: () => number;
}

/** A session as the API and the sockets see it. */
export interface SessionInfo {
  id: string;
  organizationId: string;
  organizerId: string;
  title: string;
  sourceLanguage: string;
  status: 'scheduled' | 'live' | 'ended';
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_CACHED = 10_000;

function toInfo(row: Session): SessionInfo {
  return {
    id: row.id,
    organizationId: row.organization_id,
    organizerId: row.organizer_id,
    title: row.title,
    sourceLanguage: row.source_language,
    status: row.status,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

/**
 * Sessions in Postgres, always scoped to the caller's organization: a query for another
 * organization's session finds nothing, so it cannot leak through any code path that uses this.
 * The only unscoped read is lookup(), whose caller (socket auth) compares the organization itself.
 */
export class SessionStore {
  readonly #db: Kysely<Database>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { info: SessionInfo | undefined; expiresAt: number }>();
  readonly #inflight = new Map<string, Promise<SessionInfo | undefined>>();

  constructor({ db, lookupCacheTtlMs = 2_000, now = Date.now }: SessionStoreOptions) {
    this.#db = db;
    this.#ttlMs = lookupCacheTtlMs;
    this.#now = now;
  }

  /** Any organization's session by id (cached briefly, one query in flight per id), or undefined. */
  async lookup(id: string): Promise<SessionInfo | undefined> {
    if (!UUID.test(id)) return undefined;
    const cached = this.#cache.get(id);
    if (cached && cached.expiresAt > this.#now()) return cached.info;
    let pending = this.#inflight.get(id);
    if (!pending) {
      pending = this.#db
        .selectFrom('sessions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst()
        .then((row) => {
          const info = row ? toInfo(row) : undefined;
          if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
          this.#cache.set(id, { info, expiresAt: this.#now() + this.#ttlMs });
          return info;
        })
        .finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, pending);
    }
    return pending;
  }

  /** Drops a cached lookup (the session changed state). */
  forget(id: string): void {
    this.#cache.delete(id);
  }

  /**
   * A new scheduled session organized by the principal. The organization and user rows are created
   * on first sight of a token's org and sub (identity.ts explains the ids).
   */
  async create(principal: Principal, input: { title: string; sourceLanguage: string }): Promise<SessionInfo> {
    const userId = userIdFor(principal.org, principal.sub);
    const row = await this.#db.transaction().execute(async (trx) => {
      await trx
        .insertInto('organizations')
        .values({ id: principal.org, name: `Organization ${principal.org}` })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      await trx
        .insertInto('users')
        .values({ id: userId, organization_id: principal.org, email: placeholderEmailFor(userId), display_name: principal.name })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return trx
        .insertInto('sessions')
        .values({ organization_id: principal.org, organizer_id: userId, title: input.title, source_language: input.sourceLanguage })
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    return toInfo(row);
  }

  /** The organization's session; NotFoundError for a missing one and for another organization's. */
  async get(org: string, id: string): Promise<SessionInfo> {
    const row = UUID.test(id)
      ? await this.#db.selectFrom('sessions').selectAll().where('id', '=', id).where('organization_id', '=', org).executeTakeFirst()
      : undefined;
    if (!row) throw new NotFoundError('no such session');
    return toInfo(row);
  }

  /** scheduled -> live (idempotent when live already); SessionEndedError once ended. */
  async start(org: string, id: string): Promise<SessionInfo> {
    const current = await this.get(org, id);
    if (current.status === 'ended') throw new SessionEndedError('the session has ended');
    if (current.status === 'live') return current;
    const row = await this.#db
      .updateTable('sessions')
      .set({ status: 'live', started_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('organization_id', '=', org)
      .where('status', '=', 'scheduled')
      .returningAll()
      .executeTakeFirst();
    this.forget(id);
    if (row) return toInfo(row);
    // Someone else moved it meanwhile (started it: fine; ended it: say so).
    const now = await this.get(org, id);
    if (now.status === 'live') return now;
    if (now.status === 'ended') throw new SessionEndedError('the session has ended');
    throw new InvalidStateError(`the session is ${now.status}`);
  }

  /** Any state -> ended. `changed` is false when it had ended already (ending is idempotent). */
  async end(org: string, id: string): Promise<{ session: SessionInfo; changed: boolean }> {
    const current = await this.get(org, id);
    if (current.status === 'ended') return { session: current, changed: false };
    const row = await this.#db
      .updateTable('sessions')
      .set({ status: 'ended', ended_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('organization_id', '=', org)
      .where('status', '<>', 'ended')
      .returningAll()
      .executeTakeFirst();
    this.forget(id);
    if (row) return { session: toInfo(row), changed: true };
    return { session: await this.get(org, id), changed: false };
  }
}

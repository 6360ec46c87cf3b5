import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../Database.js';

/** One organization's glossary for one language pair, at its current version. */
export interface CurrentGlossary {
  orgId: string;
  source: string;
  /** As the caller wrote it. */
  target: string;
  version: number;
  entries: { sourceTerm: string; targetTerm: string }[];
}

export interface GlossaryVersionsOptions {
  db: Kysely<Database>;
  /**
   * How long a looked-up glossary is reused without asking Postgres again: the longest an edit
   * takes to reach new translations (edits bump `glossaries.version`; nothing else is invalidated).
   */
  ttlMs?: number;
  /** Bound on remembered (organization, source, target) keys; the oldest go first. */
  maxKeys?: number;
  /** Milliseconds, monotonic; injected by tests. */
  clock?: { now(): number };
}

const MONOTONIC = { now: () => performance.now() };

interface Remembered {
  glossary: CurrentGlossary | undefined;
  expiresAt: number;
}

/**
 * The current glossary (version and entries) of an organization per language pair, from Postgres,
 * remembered for a few seconds so live captions do not query the database per final (C-1). The
 * version is what the translation cache keys on and what workers receive with the entries: the
 * result is what sidecars/client's TranslationClient takes as a request's `glossaries`.
 * Languages match case-insensitively and exactly ('en' -> 'de' does not serve 'de-AT').
 */
export class GlossaryVersions {
  readonly #db: Kysely<Database>;
  readonly #ttlMs: number;
  readonly #maxKeys: number;
  readonly #clock: { now(): number };
  readonly #remembered = new Map<string, Remembered>();

  constructor({ db, ttlMs = 5_000, maxKeys = 10_000, clock = MONOTONIC }: GlossaryVersionsOptions) {
    if (!(ttlMs >= 0)) throw new TypeError(`ttlMs must be >= 0 (got ${ttlMs})`);
    this.#db = db;
    this.#ttlMs = ttlMs;
    this.#maxKeys = maxKeys;
    this.#clock = clock;
  }

  /** The current glossary of each target that has one; one query for all targets not remembered. */
  async forTargets(orgId: string, source: string, targets: readonly string[]): Promise<CurrentGlossary[]> {
    const now = this.#clock.now();
    const found: CurrentGlossary[] = [];
    const missing: string[] = [];
    for (const target of targets) {
      const hit = this.#remembered.get(keyOf(orgId, source, target));
      if (hit !== undefined && hit.expiresAt > now) {
        if (hit.glossary) found.push({ ...hit.glossary, target });
      } else {
        missing.push(target);
      }
    }
    if (missing.length === 0) return found;

    let rows;
    try {
      rows = await this.#query(orgId, source, missing);
    } catch (err) {
      return [...found, ...this.#stale(orgId, source, missing, now, err)];
    }
    const byTarget = new Map<string, CurrentGlossary>();
    for (const row of rows) {
      const target = row.target_language.toLowerCase();
      let glossary = byTarget.get(target);
      if (glossary === undefined) {
        glossary = { orgId, source, target, version: row.version, entries: [] };
        byTarget.set(target, glossary);
      }
      if (row.source_term !== null && row.target_term !== null) glossary.entries.push({ sourceTerm: row.source_term, targetTerm: row.target_term });
    }
    const expiresAt = this.#clock.now() + this.#ttlMs;
    for (const target of missing) {
      const glossary = byTarget.get(target.toLowerCase());
      this.#remember(keyOf(orgId, source, target), { glossary, expiresAt });
      if (glossary) found.push({ ...glossary, target });
    }
    return found;
  }

  #query(orgId: string, source: string, missing: readonly string[]) {
    return this.#db
      .selectFrom('glossaries as g')
      .leftJoin('glossary_entries as e', 'e.glossary_id', 'g.id')
      .select(['g.target_language', 'g.version', 'e.source_term', 'e.target_term'])
      .where('g.organization_id', '=', orgId)
      .where(sql<string>`lower(g.source_language)`, '=', source.toLowerCase())
      .where(
        sql<string>`lower(g.target_language)`,
        'in',
        missing.map((t) => t.toLowerCase()),
      )
      .orderBy('e.source_term')
      .execute();
  }

  /**
   * With the database unreachable, live captions keep the glossary they were using (and their cache
   * keys) rather than lose their translations: each expired entry is served again for another
   * ttlMs, so an outage costs one failed query per ttlMs, not one per final. A pair never looked up
   * has nothing to fall back on, and the error goes to the caller.
   */
  #stale(orgId: string, source: string, targets: readonly string[], now: number, err: unknown): CurrentGlossary[] {
    const remembered = targets.map((target) => ({ target, key: keyOf(orgId, source, target), hit: this.#remembered.get(keyOf(orgId, source, target)) }));
    if (remembered.some((r) => r.hit === undefined)) throw err;
    const found: CurrentGlossary[] = [];
    for (const { target, key, hit } of remembered) {
      if (hit === undefined) continue;
      this.#remember(key, { glossary: hit.glossary, expiresAt: now + this.#ttlMs });
      if (hit.glossary) found.push({ ...hit.glossary, target });
    }
    return found;
  }

  #remember(key: string, value: Remembered): void {
    this.#remembered.delete(key);
    this.#remembered.set(key, value);
    for (const oldest of this.#remembered.keys()) {
      if (this.#remembered.size <= this.#maxKeys) break;
      this.#remembered.delete(oldest);
    }
  }
}

function keyOf(orgId: string, source: string, target: string): string {
  return `${orgId}\n${source.toLowerCase()}\n${target.toLowerCase()}`;
}

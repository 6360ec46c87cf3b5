import type { Kysely } from 'kysely';
import tap from 'tap';
import type { Database } from '../src/Database.js';
import { GlossaryVersions } from '../src/glossary/GlossaryVersions.js';
import { migratedDb } from './fixtures/testDb.js';

/** Time that moves only when the test says so. */
class ManualClock {
  #now = 1_000_000;
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

async function seedGlossary(db: Kysely<Database>) {
  const org = await db.insertInto('organizations').values({ name: 'Acme' }).returning('id').executeTakeFirstOrThrow();
  const glossary = await db
    .insertInto('glossaries')
    .values({ organization_id: org.id, source_language: 'en', target_language: 'de' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('glossary_entries')
    .values({ glossary_id: glossary.id, organization_id: org.id, source_term: 'keynote', target_term: 'Hauptvortrag' })
    .execute();
  return { orgId: org.id, glossaryId: glossary.id };
}

tap.test('the current version and entries per target, remembered for ttlMs', async (t) => {
  const db = await migratedDb(t);
  const { orgId, glossaryId } = await seedGlossary(db);
  const clock = new ManualClock();
  const versions = new GlossaryVersions({ db, ttlMs: 5_000, clock });

  const [de, ...rest] = await versions.forTargets(orgId, 'en', ['DE', 'fr']);
  t.same(rest, [], 'no glossary for fr');
  t.same(de, { orgId, source: 'en', target: 'DE', version: 2, entries: [{ sourceTerm: 'keynote', targetTerm: 'Hauptvortrag' }] }, 'target as the caller wrote it');

  await db.updateTable('glossary_entries').set({ target_term: 'Grundsatzrede' }).where('glossary_id', '=', glossaryId).execute();
  t.equal((await versions.forTargets(orgId, 'en', ['de']))[0]?.version, 2, 'within ttlMs: remembered');
  clock.advance(5_000);
  const fresh = (await versions.forTargets(orgId, 'en', ['de']))[0];
  t.equal(fresh?.version, 3, 'after ttlMs: the bumped version');
  t.same(fresh?.entries, [{ sourceTerm: 'keynote', targetTerm: 'Grundsatzrede' }]);
});

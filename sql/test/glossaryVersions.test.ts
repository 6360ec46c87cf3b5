import tap from 'tap';
import { GlossaryVersions } from '../src/glossary/GlossaryVersions.js';
import { migratedDb, seedGlossary } from './fixtures/testDb.js';

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

import tap from 'tap';
import { GlossaryVersions } from '../src/glossary/GlossaryVersions.js';
import { createTestDatabase } from '../../core/test/support/infra.js';
import { createDb } from '../src/createDb.js';
import { migrateToLatest } from '../src/migrator.js';
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

tap.test('with the database unreachable, a pair looked up before keeps its glossary; an unknown pair fails', async (t) => {
  const url = await createTestDatabase(t);
  const db = createDb({ url, poolMax: 2, applicationName: 'sql-test' });
  t.teardown(() => db.destroy());
  await migrateToLatest(db);
  const { orgId } = await seedGlossary(db);
  const clock = new ManualClock();
  // Its own pool, so the test can take the database away from this reader alone.
  const lost = createDb({ url, poolMax: 1, applicationName: 'sql-test-lost' });
  const versions = new GlossaryVersions({ db: lost, ttlMs: 5_000, clock });
  const before = await versions.forTargets(orgId, 'en', ['de', 'fr']);
  t.equal(before[0]?.version, 2);
  await lost.destroy();
  clock.advance(5_000);

  const during = await versions.forTargets(orgId, 'en', ['de', 'fr']);
  t.same(during, before, 'after ttlMs, the failed query gives way to what was remembered');
  await t.rejects(versions.forTargets(orgId, 'en', ['it']), 'a pair never looked up has no glossary to fall back on');
  await t.rejects(versions.forTargets(orgId, 'en', ['de', 'it']), 'nor does a call that includes one');
});

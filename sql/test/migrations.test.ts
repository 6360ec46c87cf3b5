import { sql, type Kysely } from 'kysely';
import tap from 'tap';
import type { Database } from '../src/Database.js';
import { MigrationError } from '../src/errors.js';
import { listMigrations, migrateDown, migrateToEmpty, migrateToLatest } from '../src/migrator.js';
import { listPartitions, monthlyPartition, PARTITIONED_TABLES } from '../src/partitions.js';
import { emptyDb, migratedDb, seedSession } from './fixtures/testDb.js';

const TABLES = [
  'chat_messages',
  'glossaries',
  'glossary_entries',
  'organizations',
  'participants',
  'sessions',
  'translation_history',
  'users',
];

/** Tables (plain and partitioned) of the public schema, kysely's own bookkeeping left out. */
async function tables(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ relname: string }>`
    SELECT relname FROM pg_class
    WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND relname NOT LIKE 'kysely\\_migration%'
    ORDER BY relname`.execute(db);
  return rows.map((r) => r.relname);
}

/** Anything the migrations could have left behind: relations, types and domains, functions. */
async function leftovers(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ what: string }>`
    SELECT 'relation ' || relname AS what FROM pg_class
      WHERE relnamespace = 'public'::regnamespace AND relname NOT LIKE 'kysely\\_migration%'
    UNION ALL
    SELECT 'type ' || typname FROM pg_type
      WHERE typnamespace = 'public'::regnamespace AND typtype IN ('d', 'e', 'c') AND typrelid = 0
    UNION ALL
    SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace`.execute(db);
  return rows.map((r) => r.what);
}

function thisAndNextMonth(now: Date): string[] {
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return [now, next].flatMap((month) => PARTITIONED_TABLES.map((table) => monthlyPartition(table, month).name)).sort();
}

tap.test('migrates up from empty, down to empty, and up again', async (t) => {
  const db = await emptyDb(tap);
  t.same((await listMigrations(db)).map((m) => [m.name, m.executedAt]), [['0001_initial', undefined]]);

  const up = await migrateToLatest(db);
  t.same(up, [{ migrationName: '0001_initial', direction: 'Up', status: 'Success' }]);
  const afterUp = await tables(db);
  for (const table of TABLES) t.ok(afterUp.includes(table), `${table} exists`);
  t.same(await migrateToLatest(db), [], 'a second run finds nothing to do');

  const down = await migrateToEmpty(db);
  t.same(down, [{ migrationName: '0001_initial', direction: 'Down', status: 'Success' }]);
  t.same(await tables(db), [], 'no table left');
  t.same(await leftovers(db), [], 'no index, sequence, domain or function left either');

  t.same(await migrateToLatest(db), [{ migrationName: '0001_initial', direction: 'Up', status: 'Success' }]);
  t.same(await tables(db), afterUp, 'up again rebuilds the same tables');
});

tap.test('migrateDown reverts one migration', async (t) => {
  const db = await migratedDb(tap);
  t.same(await migrateDown(db), [{ migrationName: '0001_initial', direction: 'Down', status: 'Success' }]);
  t.same(await migrateDown(db), [], 'nothing left to revert');
  t.same(await tables(db), []);
});

tap.test('a database whose history does not match the code fails with a clear error', async (t) => {
  const db = await migratedDb(tap);
  await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('0000_unknown', '2020-01-01T00:00:00Z')`.execute(db);
  const err = await migrateToLatest(db).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, MigrationError);
  t.match(err, { message: /^migrateToLatest failed before running any migration: .*0000_unknown/ });
});

tap.test('the initial migration partitions this month and the next, without a default partition', async (t) => {
  const now = new Date();
  const db = await migratedDb(tap);
  const names = (await listPartitions(db)).map((p) => p.name).sort();
  t.same(names, thisAndNextMonth(now));
  const { rows } = await sql<{ defaults: number }>`SELECT count(*) AS defaults FROM pg_partitioned_table WHERE partdefid <> 0`.execute(db);
  t.same(rows, [{ defaults: 0 }]);
});

tap.test('an insert for a month without a partition fails instead of landing in a catch-all', async (t) => {
  const db = await migratedDb(tap);
  const seed = await seedSession(db);
  await t.rejects(
    db
      .insertInto('translation_history')
      .values({
        organization_id: seed.organizationId,
        session_id: seed.sessionId,
        segment_id: 'seg-1',
        seq: 1,
        source_language: 'en',
        target_language: 'fr',
        source_text: 'hello',
        translated_text: 'bonjour',
        engine: 'test',
        is_final: true,
        translated_at: new Date('2001-01-01T00:00:00Z'),
      })
      .execute(),
    { code: '23514', message: /no partition of relation "translation_history" found for row/ },
  );
});

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sql, type Kysely } from 'kysely';
import tap from 'tap';
import { archiveFileName, gzipJsonLinesArchive } from '../src/archive.js';
import type { Database } from '../src/Database.js';
import { PartitionMaintenanceError } from '../src/errors.js';
import { dropExpiredPartitions, ensurePartitions, listPartitions, monthlyPartition, parsePartitionName, type PartitionArchiver } from '../src/partitions.js';
import { migratedDb, seedSession, type SeededSession } from './fixtures/testDb.js';

const OLD_MONTH = new Date('2020-03-15T12:00:00Z');

async function partitionNames(db: Kysely<Database>): Promise<string[]> {
  return (await listPartitions(db)).map((p) => p.name);
}

/** Five captions in March 2020, two sharing a timestamp, so archiving pages through ties. */
async function fillOldMonth(db: Kysely<Database>, seed: SeededSession): Promise<void> {
  const times = ['2020-03-02T10:00:00.123456Z', '2020-03-02T10:00:00.123456Z', '2020-03-09T08:00:00Z', '2020-03-20T08:00:00Z', '2020-03-31T23:59:59.999999Z'];
  await db
    .insertInto('translation_history')
    .values(
      times.map((at, i) => ({
        organization_id: seed.organizationId,
        session_id: seed.sessionId,
        segment_id: `old-${i}`,
        seq: i + 1,
        speaker_id: seed.speakerId,
        source_language: 'en',
        target_language: 'es',
        source_text: `old caption ${i}`,
        translated_text: `subtítulo antiguo ${i}`,
        engine: 'mt-test',
        is_final: true,
        translated_at: at,
      })),
    )
    .execute();
  await db
    .insertInto('chat_messages')
    .values({
      organization_id: seed.organizationId,
      session_id: seed.sessionId,
      sender_id: seed.speakerId,
      source_language: 'en',
      text: 'old chat',
      translations: { es: 'chat antiguo' },
      sent_at: '2020-03-10T00:00:00Z',
    })
    .execute();
}

tap.test('partition names follow the month, in UTC', async (t) => {
  t.same(monthlyPartition('translation_history', new Date('2026-11-30T23:59:59.999Z')), {
    parent: 'translation_history',
    name: 'translation_history_y2026m11',
    from: new Date('2026-11-01T00:00:00Z'),
    to: new Date('2026-12-01T00:00:00Z'),
  });
  t.equal(monthlyPartition('chat_messages', new Date('2026-12-31T23:30:00-02:00')).name, 'chat_messages_y2027m01');
  t.same(parsePartitionName('chat_messages_y2027m01'), monthlyPartition('chat_messages', new Date('2027-01-10T00:00:00Z')));
  t.equal(parsePartitionName('chat_messages_y2027m13'), undefined);
  t.equal(parsePartitionName('translation_history_old'), undefined);
});

tap.test('ensurePartitions creates what is missing, then nothing', async (t) => {
  const db = await migratedDb(tap);
  const now = new Date();
  const before = await partitionNames(db);

  const created = await ensurePartitions(db, { monthsAhead: 3, now });
  const expected = [2, 3].flatMap((ahead) => {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 1));
    return [monthlyPartition('translation_history', month).name, monthlyPartition('chat_messages', month).name];
  });
  t.same(created.map((p) => p.name).sort(), expected.sort(), 'months two and three ahead (the migration made this one and the next)');
  t.same(await ensurePartitions(db, { monthsAhead: 3, now }), [], 'a second run creates nothing');
  t.same((await partitionNames(db)).sort(), [...before, ...expected].sort());

  // Two maintenance runs at once (two history processes): the advisory lock makes the second wait
  // and find the work done, instead of failing on "relation already exists".
  const later = new Date(Date.UTC(now.getUTCFullYear() + 1, now.getUTCMonth(), 1));
  const [a, b] = await Promise.all([ensurePartitions(db, { monthsAhead: 1, now: later }), ensurePartitions(db, { monthsAhead: 1, now: later })]);
  t.equal(a.length + b.length, 4, 'each of the four partitions created exactly once');

  await t.rejects(ensurePartitions(db, { monthsAhead: -1 }), TypeError);
});

tap.test('dropExpiredPartitions archives an expired month, then detaches and drops it', async (t) => {
  const db = await migratedDb(tap);
  const seed = await seedSession(db);
  await ensurePartitions(db, { monthsAhead: 0, now: OLD_MONTH });
  await fillOldMonth(db, seed);
  const current = await partitionNames(db);
  const dir = path.join(t.testdir(), 'archive'); // removed with the test; the archiver creates it

  const dropped = await dropExpiredPartitions(db, { retentionDays: 30, archive: gzipJsonLinesArchive(dir), batchSize: 2 });
  t.same(
    dropped.map((p) => [p.name, p.archivedRows]),
    [
      ['chat_messages_y2020m03', 1],
      ['translation_history_y2020m03', 5],
    ],
  );
  t.same(
    (await readdir(dir)).sort(),
    [archiveFileName('chat_messages_y2020m03'), archiveFileName('translation_history_y2020m03')],
    'one complete file per partition, no partial file left',
  );

  const lines = gunzipSync(await readFile(path.join(dir, archiveFileName('translation_history_y2020m03'))))
    .toString('utf8')
    .trimEnd()
    .split('\n');
  const archived = lines.map((line) => {
    const row: unknown = JSON.parse(line);
    return new Map(typeof row === 'object' && row !== null ? Object.entries(row) : []);
  });
  t.same(
    archived.map((row) => row.get('segment_id')).sort(),
    ['old-0', 'old-1', 'old-2', 'old-3', 'old-4'],
    'every row exactly once, across pages and timestamp ties',
  );
  const last = archived.find((row) => row.get('segment_id') === 'old-4');
  t.equal(last?.get('translated_at'), '2020-03-31T23:59:59.999999+00:00', 'timestamps keep their microseconds');
  t.equal(last?.get('translated_text'), 'subtítulo antiguo 4');
  t.equal(last?.get('session_id'), seed.sessionId);
  t.notOk(last?.has('search'), 'the generated tsvector is not archived');

  const chat = gunzipSync(await readFile(path.join(dir, archiveFileName('chat_messages_y2020m03')))).toString('utf8');
  t.match(JSON.parse(chat), { text: 'old chat', translations: { es: 'chat antiguo' } });

  const remaining = await partitionNames(db);
  t.same(
    remaining,
    current.filter((name) => !name.includes('y2020m03')),
    'the expired partitions are gone, the current ones kept',
  );
  const { rows } = await sql<{ exists: boolean }>`SELECT to_regclass('translation_history_y2020m03') IS NOT NULL AS exists`.execute(db);
  t.same(rows, [{ exists: false }], 'dropped, not merely detached');

  t.same(await dropExpiredPartitions(db, { retentionDays: 30, archive: gzipJsonLinesArchive(dir) }), [], 'a second run finds nothing');
});

tap.test('a partition is kept until its whole month is past the retention window', async (t) => {
  const db = await migratedDb(tap);
  await ensurePartitions(db, { monthsAhead: 0, now: OLD_MONTH });
  const archived: string[] = [];
  const archive: PartitionArchiver = async (partition, lines) => {
    for await (const line of lines) archived.push(`${partition.name}: ${line}`);
  };

  // March 2020 ends 2020-04-01T00:00Z; with 30 days of retention it expires on 2020-05-01T00:00Z.
  t.same(await dropExpiredPartitions(db, { retentionDays: 30, archive, now: new Date('2020-04-30T23:59:59Z') }), []);
  const dropped = await dropExpiredPartitions(db, { retentionDays: 30, archive, now: new Date('2020-05-01T00:00:00Z') });
  t.same(dropped.map((p) => p.name).sort(), ['chat_messages_y2020m03', 'translation_history_y2020m03']);
  t.same(archived, [], 'empty partitions archive no lines');
});

tap.test('a failing or lazy archiver keeps the partition and its rows', async (t) => {
  const db = await migratedDb(tap);
  const seed = await seedSession(db);
  await ensurePartitions(db, { monthsAhead: 0, now: OLD_MONTH });
  await fillOldMonth(db, seed);
  const oldRows = () => db.selectFrom('translation_history').select('segment_id').where('translated_at', '<', new Date('2020-04-01T00:00:00Z')).execute();

  const failing: PartitionArchiver = async () => {
    throw new Error('disk full');
  };
  await t.rejects(dropExpiredPartitions(db, { retentionDays: 30, archive: failing }), {
    name: 'PartitionMaintenanceError',
    message: /^archiving chat_messages_y2020m03 failed; partition kept$/,
    cause: { message: 'disk full' },
  });
  t.equal((await oldRows()).length, 5);

  const lazy: PartitionArchiver = async (_partition, lines) => {
    for await (const line of lines) {
      t.ok(line);
      break; // reads one row and claims success: the rest would be lost
    }
  };
  const err = await dropExpiredPartitions(db, { retentionDays: 30, archive: lazy, batchSize: 2 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, PartitionMaintenanceError);
  t.match(err, { partition: 'chat_messages_y2020m03' });
  t.equal((await oldRows()).length, 5);
  t.ok((await partitionNames(db)).includes('translation_history_y2020m03'));
});

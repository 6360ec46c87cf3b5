import type { Kysely } from 'kysely';
import tap from 'tap';
import type { Database } from '../src/Database.js';
import { migratedDb, seedSession } from './fixtures/testDb.js';

async function glossaryVersion(db: Kysely<Database>, id: string): Promise<number> {
  const row = await db.selectFrom('glossaries').select('version').where('id', '=', id).executeTakeFirstOrThrow();
  return row.version;
}

tap.test('rows cannot point across organizations', async (t) => {
  const db = await migratedDb(tap);
  const acme = await seedSession(db, 'Acme');
  const globex = await seedSession(db, 'Globex');
  const fkViolation = { code: '23503' };

  await t.rejects(
    db
      .insertInto('participants')
      .values({ organization_id: globex.organizationId, session_id: acme.sessionId, display_name: 'Intruder', role: 'viewer' })
      .execute(),
    fkViolation,
    "a participant in another organization's session",
  );
  await t.rejects(
    db
      .insertInto('sessions')
      .values({ organization_id: acme.organizationId, organizer_id: globex.userId, title: 'x', source_language: 'en' })
      .execute(),
    fkViolation,
    "a session organized by another organization's user",
  );
  await t.rejects(
    db
      .insertInto('translation_history')
      .values({
        organization_id: acme.organizationId,
        session_id: acme.sessionId,
        segment_id: 's',
        seq: 1,
        speaker_id: globex.speakerId,
        source_language: 'en',
        target_language: 'fr',
        source_text: 'a',
        translated_text: 'b',
        engine: 'mt-test',
        is_final: true,
        translated_at: new Date(),
      })
      .execute(),
    fkViolation,
    "a caption attributed to another organization's speaker",
  );
});

tap.test('check constraints refuse malformed values', async (t) => {
  const db = await migratedDb(tap);
  const seed = await seedSession(db);
  const checkViolation = { code: '23514' };
  await t.rejects(
    db.insertInto('users').values({ organization_id: seed.organizationId, email: 'Bob@Example.com', display_name: 'Bob' }).execute(),
    checkViolation,
    'e-mail addresses are stored lower-case',
  );
  await t.rejects(
    db.insertInto('users').values({ organization_id: seed.organizationId, email: 'host@acme.example', display_name: 'Again' }).execute(),
    { code: '23505' },
    'one account per e-mail per organization',
  );
  await t.rejects(
    db
      .insertInto('sessions')
      .values({ organization_id: seed.organizationId, organizer_id: seed.userId, title: 'x', source_language: 'english please' })
      .execute(),
    checkViolation,
    'language tags are BCP 47 shaped',
  );
  await t.rejects(
    db
      .insertInto('sessions')
      .values({ organization_id: seed.organizationId, organizer_id: seed.userId, title: 'x', source_language: 'en', status: 'live' })
      .execute(),
    checkViolation,
    'a live session has a start time',
  );
});

tap.test('any change to glossary entries bumps the glossary version once per statement', async (t) => {
  const db = await migratedDb(tap);
  const seed = await seedSession(db);
  const glossary = await db
    .insertInto('glossaries')
    .values({ organization_id: seed.organizationId, source_language: 'en', target_language: 'fr' })
    .returning(['id', 'version'])
    .executeTakeFirstOrThrow();
  t.equal(glossary.version, 1);

  const entry = (source_term: string, target_term: string) => ({ glossary_id: glossary.id, organization_id: seed.organizationId, source_term, target_term });
  await db.insertInto('glossary_entries').values([entry('roadmap', 'feuille de route'), entry('keynote', 'plénière'), entry('caption', 'sous-titre')]).execute();
  t.equal(await glossaryVersion(db, glossary.id), 2, 'a bulk insert is one edit');
  await db.updateTable('glossary_entries').set({ target_term: 'conférence plénière' }).where('source_term', '=', 'keynote').execute();
  t.equal(await glossaryVersion(db, glossary.id), 3);
  await db.deleteFrom('glossary_entries').where('source_term', '=', 'caption').execute();
  t.equal(await glossaryVersion(db, glossary.id), 4);
  await t.rejects(db.insertInto('glossary_entries').values(entry('roadmap', 'plan')).execute(), { code: '23505' }, 'one entry per term');
  t.equal(await glossaryVersion(db, glossary.id), 4, 'a failed edit changes nothing');

  await t.rejects(
    db.insertInto('glossaries').values({ organization_id: seed.organizationId, source_language: 'en', target_language: 'fr' }).execute(),
    { code: '23505' },
    'one glossary per organization and language pair',
  );
});

tap.test('deleting participants, users and organizations cascades without orphans', async (t) => {
  const db = await migratedDb(tap);
  const seed = await seedSession(db);
  const other = await seedSession(db, 'Globex');
  const viewer = await db
    .insertInto('participants')
    .values({ organization_id: seed.organizationId, session_id: seed.sessionId, display_name: 'Guest', role: 'viewer', caption_language: 'fr' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('translation_history')
    .values({
      organization_id: seed.organizationId,
      session_id: seed.sessionId,
      segment_id: 's1',
      seq: 1,
      speaker_id: viewer.id,
      source_language: 'en',
      target_language: 'fr',
      source_text: 'a',
      translated_text: 'b',
      engine: 'mt-test',
      is_final: true,
      translated_at: new Date(),
    })
    .execute();
  await db
    .insertInto('chat_messages')
    .values({ organization_id: seed.organizationId, session_id: seed.sessionId, sender_id: viewer.id, source_language: 'en', text: 'hi' })
    .execute();
  const glossary = await db
    .insertInto('glossaries')
    .values({ organization_id: seed.organizationId, source_language: 'en', target_language: 'fr' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('glossary_entries').values({ glossary_id: glossary.id, organization_id: seed.organizationId, source_term: 'a', target_term: 'b' }).execute();

  await db.deleteFrom('participants').where('id', '=', viewer.id).execute();
  const caption = await db.selectFrom('translation_history').select('speaker_id').executeTakeFirstOrThrow();
  t.equal(caption.speaker_id, null, "a deleted speaker's captions stay, unattributed");
  t.equal((await db.selectFrom('chat_messages').select('id').execute()).length, 0, "a deleted participant's chat goes with them");

  await db.deleteFrom('organizations').where('id', '=', seed.organizationId).execute();
  const remaining: Array<[Exclude<keyof Database, 'organizations'>, string[]]> = [
    ['users', [other.organizationId]],
    ['sessions', [other.organizationId]],
    ['participants', [other.organizationId]],
    ['glossaries', []],
    ['glossary_entries', []],
    ['translation_history', []],
    ['chat_messages', []],
  ];
  for (const [table, expected] of remaining) {
    const left = await db.selectFrom(table).select('organization_id').distinct().execute();
    t.same(
      left.map((r) => r.organization_id),
      expected,
      `${table}: only the other organization's rows remain`,
    );
  }
});

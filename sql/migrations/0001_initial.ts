import { sql, type Kysely } from 'kysely';

// A migration is frozen once released: it never imports application code (sql/src), whose later
// versions could change what an old migration does. Hence the partition DDL below is its own copy.

const PARTITIONED_TABLES = ['translation_history', 'chat_messages'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  // Lenient on case ('EN-US' is DeepL's spelling) but refuses empty strings, spaces and free text.
  await sql`CREATE DOMAIN language_tag AS text CHECK (VALUE ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$')`.execute(db);

  await db.schema
    .createTable('organizations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`length(btrim(name)) > 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    // Lower-case only, so the per-organization unique key is case-insensitive without citext.
    .addColumn('email', 'text', (c) => c.notNull().check(sql`email = lower(email) AND position('@' in email) > 1`))
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('member').check(sql`role IN ('admin', 'member')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('users_organization_email_key', ['organization_id', 'email'])
    // Target of the composite foreign keys that pin a row's user to the row's own organization.
    .addUniqueConstraint('users_organization_id_key', ['organization_id', 'id'])
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('organizer_id', 'uuid', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('source_language', sql`language_tag`, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('scheduled').check(sql`status IN ('scheduled', 'live', 'ended')`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('sessions_organization_id_key', ['organization_id', 'id'])
    .addForeignKeyConstraint('sessions_organizer_fkey', ['organization_id', 'organizer_id'], 'users', ['organization_id', 'id'])
    .addCheckConstraint('sessions_live_has_started', sql`status <> 'live' OR started_at IS NOT NULL`)
    .addCheckConstraint('sessions_ends_after_start', sql`ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at`)
    .execute();

  await db.schema
    .createTable('participants')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull())
    .addColumn('organization_id', 'uuid', (c) => c.notNull())
    .addColumn('user_id', 'uuid')
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('host', 'speaker', 'viewer')`))
    .addColumn('caption_language', sql`language_tag`)
    .addColumn('joined_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('left_at', 'timestamptz')
    .addUniqueConstraint('participants_organization_id_key', ['organization_id', 'id'])
    .addForeignKeyConstraint('participants_session_fkey', ['organization_id', 'session_id'], 'sessions', ['organization_id', 'id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .addCheckConstraint('participants_leaves_after_join', sql`left_at IS NULL OR left_at >= joined_at`)
    .execute();
  // SET NULL on the user column only: organization_id is shared with the session key and must stay.
  await sql`ALTER TABLE participants ADD CONSTRAINT participants_user_fkey FOREIGN KEY (organization_id, user_id)
    REFERENCES users (organization_id, id) ON DELETE SET NULL (user_id)`.execute(db);

  await db.schema
    .createTable('glossaries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('source_language', sql`language_tag`, (c) => c.notNull())
    .addColumn('target_language', sql`language_tag`, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Also the lookup index of seed C-3 (organization_id, source_language, target_language).
    .addUniqueConstraint('glossaries_organization_pair_key', ['organization_id', 'source_language', 'target_language'])
    .addUniqueConstraint('glossaries_organization_id_key', ['organization_id', 'id'])
    .addCheckConstraint('glossaries_distinct_languages', sql`lower(source_language) <> lower(target_language)`)
    .execute();

  await db.schema
    .createTable('glossary_entries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('glossary_id', 'uuid', (c) => c.notNull())
    .addColumn('organization_id', 'uuid', (c) => c.notNull())
    .addColumn('source_term', 'text', (c) => c.notNull().check(sql`length(source_term) > 0`))
    .addColumn('target_term', 'text', (c) => c.notNull())
    .addUniqueConstraint('glossary_entries_glossary_term_key', ['glossary_id', 'source_term'])
    .addForeignKeyConstraint(
      'glossary_entries_glossary_fkey',
      ['organization_id', 'glossary_id'],
      'glossaries',
      ['organization_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();

  // The translation cache key carries the glossary version (ARCHITECTURE "Caches", seed S-3). Bumping
  // it here rather than in the API means no code path can edit entries and leave stale translations.
  // Statement-level, so a bulk import bumps each glossary once.
  await sql`CREATE FUNCTION glossary_entries_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        UPDATE glossaries SET version = version + 1, updated_at = now()
          WHERE id IN (SELECT glossary_id FROM new_entries);
      ELSIF TG_OP = 'DELETE' THEN
        UPDATE glossaries SET version = version + 1, updated_at = now()
          WHERE id IN (SELECT glossary_id FROM old_entries);
      ELSE
        UPDATE glossaries SET version = version + 1, updated_at = now()
          WHERE id IN (SELECT glossary_id FROM new_entries UNION SELECT glossary_id FROM old_entries);
      END IF;
      RETURN NULL;
    END
  $$`.execute(db);
  await sql`CREATE TRIGGER glossary_entries_version_on_insert AFTER INSERT ON glossary_entries
    REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION glossary_entries_bump_version()`.execute(db);
  await sql`CREATE TRIGGER glossary_entries_version_on_update AFTER UPDATE ON glossary_entries
    REFERENCING NEW TABLE AS new_entries OLD TABLE AS old_entries FOR EACH STATEMENT EXECUTE FUNCTION glossary_entries_bump_version()`.execute(
    db,
  );
  await sql`CREATE TRIGGER glossary_entries_version_on_delete AFTER DELETE ON glossary_entries
    REFERENCING OLD TABLE AS old_entries FOR EACH STATEMENT EXECUTE FUNCTION glossary_entries_bump_version()`.execute(db);

  await db.schema
    .createTable('chat_messages')
    .addColumn('id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull())
    .addColumn('organization_id', 'uuid', (c) => c.notNull())
    .addColumn('sender_id', 'uuid', (c) => c.notNull())
    .addColumn('source_language', sql`language_tag`, (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('translations', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`).check(sql`jsonb_typeof(translations) = 'object'`))
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A unique key on a partitioned table must contain the partition key.
    .addPrimaryKeyConstraint('chat_messages_pkey', ['id', 'sent_at'])
    .addForeignKeyConstraint('chat_messages_session_fkey', ['organization_id', 'session_id'], 'sessions', ['organization_id', 'id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .addForeignKeyConstraint('chat_messages_sender_fkey', ['organization_id', 'sender_id'], 'participants', ['organization_id', 'id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .modifyEnd(sql`PARTITION BY RANGE (sent_at)`)
    .execute();

  await db.schema
    .createTable('translation_history')
    .addColumn('id', 'bigint', (c) => c.notNull().generatedAlwaysAsIdentity())
    .addColumn('organization_id', 'uuid', (c) => c.notNull())
    .addColumn('session_id', 'uuid', (c) => c.notNull())
    .addColumn('segment_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('speaker_id', 'uuid')
    .addColumn('source_language', sql`language_tag`, (c) => c.notNull())
    .addColumn('target_language', sql`language_tag`, (c) => c.notNull())
    .addColumn('source_text', 'text', (c) => c.notNull())
    .addColumn('translated_text', 'text', (c) => c.notNull())
    .addColumn('engine', 'text', (c) => c.notNull())
    .addColumn('is_final', 'boolean', (c) => c.notNull())
    .addColumn('audio_end_at', 'timestamptz')
    .addColumn('translated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('search', sql`tsvector`, (c) =>
      c.generatedAlwaysAs(sql`to_tsvector('simple'::regconfig, coalesce(source_text, '') || ' ' || coalesce(translated_text, ''))`).stored(),
    )
    .addPrimaryKeyConstraint('translation_history_pkey', ['id', 'translated_at'])
    // The idempotency key: the history writer inserts with ON CONFLICT DO NOTHING, so a redelivered
    // JetStream message never duplicates a row.
    .addUniqueConstraint('translation_history_event_key', ['session_id', 'segment_id', 'target_language', 'translated_at'])
    .addForeignKeyConstraint(
      'translation_history_session_fkey',
      ['organization_id', 'session_id'],
      'sessions',
      ['organization_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .modifyEnd(sql`PARTITION BY RANGE (translated_at)`)
    .execute();
  await sql`ALTER TABLE translation_history ADD CONSTRAINT translation_history_speaker_fkey FOREIGN KEY (organization_id, speaker_id)
    REFERENCES participants (organization_id, id) ON DELETE SET NULL (speaker_id)`.execute(db);

  // Indexes of seed C-3 plus the organization-scoped ones; docs/data-model.md names the query each serves.
  await db.schema.createIndex('sessions_organizer_started_idx').on('sessions').columns(['organizer_id', 'started_at desc']).execute();
  await db.schema.createIndex('sessions_organization_created_idx').on('sessions').columns(['organization_id', 'created_at desc']).execute();
  await db.schema.createIndex('participants_session_joined_idx').on('participants').columns(['session_id', 'joined_at desc']).execute();
  await db.schema.createIndex('participants_user_joined_idx').on('participants').columns(['user_id', 'joined_at desc']).execute();
  await db.schema.createIndex('glossary_entries_term_idx').on('glossary_entries').columns(['source_term', 'organization_id']).execute();
  await db.schema.createIndex('chat_messages_session_sent_idx').on('chat_messages').columns(['session_id', 'sent_at desc']).execute();
  await db.schema.createIndex('chat_messages_sender_sent_idx').on('chat_messages').columns(['sender_id', 'sent_at desc']).execute();
  await db.schema
    .createIndex('translation_history_session_time_idx')
    .on('translation_history')
    .columns(['session_id', 'translated_at desc'])
    .execute();
  await db.schema
    .createIndex('translation_history_speaker_time_idx')
    .on('translation_history')
    .columns(['speaker_id', 'translated_at desc'])
    .execute();
  await db.schema
    .createIndex('translation_history_organization_time_idx')
    .on('translation_history')
    .columns(['organization_id', 'translated_at desc'])
    .execute();
  await db.schema.createIndex('translation_history_search_idx').on('translation_history').using('gin').column('search').execute();

  // This month and the next, so a fresh database accepts inserts at once; the maintenance job
  // (sql/src/partitions.ts) keeps creating months ahead from then on. No DEFAULT partition: rows
  // in it would defeat pruning and block creating the month they belong to.
  const now = new Date();
  for (let offset = 0; offset < 2; offset++) {
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
    const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
    const suffix = `y${from.getUTCFullYear()}m${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
    for (const table of PARTITIONED_TABLES) {
      await sql`CREATE TABLE ${sql.table(`${table}_${suffix}`)} PARTITION OF ${sql.table(table)}
        FOR VALUES FROM (${sql.lit(from.toISOString())}) TO (${sql.lit(to.toISOString())})`.execute(db);
    }
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Dropping a partitioned table drops every partition with it, including ones created later.
  await db.schema.dropTable('translation_history').execute();
  await db.schema.dropTable('chat_messages').execute();
  await db.schema.dropTable('glossary_entries').execute();
  await sql`DROP FUNCTION glossary_entries_bump_version()`.execute(db);
  await db.schema.dropTable('glossaries').execute();
  await db.schema.dropTable('participants').execute();
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('users').execute();
  await db.schema.dropTable('organizations').execute();
  await sql`DROP DOMAIN language_tag`.execute(db);
}

import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable, Updateable } from 'kysely';

/**
 * The typed shape of the schema built by sql/migrations, for `Kysely<Database>`. Column names are
 * the database's own (snake_case); no naming plugin sits in between. Keep in step with the
 * migrations and docs/data-model.md.
 *
 * Types as the pool built by createDb returns them: uuid and text as string, timestamptz as Date,
 * bigint as number (createDb's parser refuses values beyond Number.MAX_SAFE_INTEGER), jsonb parsed.
 */

/** A timestamptz the caller must supply; an ISO string is accepted on the way in. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamptz with a database default (now()). */
export type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** A nullable timestamptz that may be omitted on insert. */
export type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** A BCP 47 language tag ('en', 'pt-BR'); the `language_tag` domain rejects anything else. */
export type LanguageTag = string;

/** Role of a user inside its organization. */
export type UserRole = 'admin' | 'member';
export type SessionStatus = 'scheduled' | 'live' | 'ended';
/** Role of a participant in one session. */
export type ParticipantRole = 'host' | 'speaker' | 'viewer';
/** Chat translations keyed by target language tag. */
export type ChatTranslations = Record<LanguageTag, string>;

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  created_at: DefaultedTimestamp;
}

export interface UsersTable {
  id: Generated<string>;
  organization_id: string;
  /** Stored lower-case (a check constraint enforces it), unique per organization. */
  email: string;
  display_name: string;
  role: Generated<UserRole>;
  created_at: DefaultedTimestamp;
}

export interface SessionsTable {
  id: Generated<string>;
  organization_id: string;
  /** A user of the same organization (composite foreign key). */
  organizer_id: string;
  title: string;
  source_language: LanguageTag;
  status: Generated<SessionStatus>;
  /** Required once status is 'live' (check constraint). */
  started_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  created_at: DefaultedTimestamp;
}

export interface ParticipantsTable {
  id: Generated<string>;
  session_id: string;
  organization_id: string;
  /** Null for anonymous viewers, and after the user is deleted. */
  user_id: ColumnType<string | null, string | null | undefined, string | null>;
  display_name: string;
  role: ParticipantRole;
  /** The language this participant reads captions in; null reads the source language as is. */
  caption_language: ColumnType<LanguageTag | null, LanguageTag | null | undefined, LanguageTag | null>;
  joined_at: DefaultedTimestamp;
  left_at: NullableTimestamp;
}

export interface GlossariesTable {
  id: Generated<string>;
  organization_id: string;
  source_language: LanguageTag;
  target_language: LanguageTag;
  /**
   * Bumped by a database trigger on every insert, update or delete of the glossary's entries; it is
   * part of the translation cache key, so an edit invalidates cached translations in O(1).
   */
  version: Generated<number>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface GlossaryEntriesTable {
  id: Generated<string>;
  glossary_id: string;
  /** Must equal the glossary's organization (composite foreign key). */
  organization_id: string;
  source_term: string;
  target_term: string;
}

export interface ChatMessagesTable {
  /** Supply the sender's message id to make a retried insert idempotent (ON CONFLICT DO NOTHING). */
  id: Generated<string>;
  session_id: string;
  organization_id: string;
  /** The participant who sent it. */
  sender_id: string;
  source_language: LanguageTag;
  text: string;
  translations: ColumnType<ChatTranslations, ChatTranslations | undefined, ChatTranslations>;
  /** Partition key: an insert whose month has no partition fails. */
  sent_at: DefaultedTimestamp;
}

export interface TranslationHistoryTable {
  id: GeneratedAlways<number>;
  organization_id: string;
  session_id: string;
  segment_id: string;
  seq: number;
  /** The speaking participant; null when unknown or deleted. */
  speaker_id: ColumnType<string | null, string | null | undefined, string | null>;
  source_language: LanguageTag;
  target_language: LanguageTag;
  source_text: string;
  translated_text: string;
  engine: string;
  is_final: boolean;
  audio_end_at: NullableTimestamp;
  /**
   * Partition key and part of the idempotency key: take it from the caption event, never from the
   * clock at insert time, or a redelivered event would insert a second row.
   */
  translated_at: Timestamp;
  /** Generated tsvector ('simple' configuration) over source and translated text. */
  search: GeneratedAlways<string>;
}

export interface Database {
  organizations: OrganizationsTable;
  users: UsersTable;
  sessions: SessionsTable;
  participants: ParticipantsTable;
  glossaries: GlossariesTable;
  glossary_entries: GlossaryEntriesTable;
  chat_messages: ChatMessagesTable;
  translation_history: TranslationHistoryTable;
}

export type Organization = Selectable<OrganizationsTable>;
export type NewOrganization = Insertable<OrganizationsTable>;
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type Session = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;
export type SessionUpdate = Updateable<SessionsTable>;
export type Participant = Selectable<ParticipantsTable>;
export type NewParticipant = Insertable<ParticipantsTable>;
export type ParticipantUpdate = Updateable<ParticipantsTable>;
export type GlossaryRow = Selectable<GlossariesTable>;
export type NewGlossaryRow = Insertable<GlossariesTable>;
export type GlossaryEntryRow = Selectable<GlossaryEntriesTable>;
export type NewGlossaryEntryRow = Insertable<GlossaryEntriesTable>;
export type ChatMessage = Selectable<ChatMessagesTable>;
export type NewChatMessage = Insertable<ChatMessagesTable>;
export type TranslationHistoryRow = Selectable<TranslationHistoryTable>;
export type NewTranslationHistoryRow = Insertable<TranslationHistoryTable>;

import { Migrator, NO_MIGRATIONS, type Kysely, type Migration, type MigrationInfo, type MigrationResult, type MigrationResultSet } from 'kysely';
import { moduleLog } from '../../core/src/log.js';
import * as initial from '../migrations/0001_initial.js';
import type { Database } from './Database.js';
import { MigrationError } from './errors.js';

const log = moduleLog('migrator');

/**
 * Every migration, by name; names sort in the order they run. A static import map rather than a
 * folder scan, so the same code works from sql/migrations/*.ts (ts-node) and dist/sql/migrations/*.js.
 * A new migration is a new file plus one line here.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': initial,
};

function migratorFor(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => ({ ...MIGRATIONS }) } });
}

function unwrap(operation: string, { error, results = [] }: MigrationResultSet): MigrationResult[] {
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    const message = failed
      ? `migration ${failed.migrationName} failed (${failed.direction.toLowerCase()}): ${reason}; the whole run was rolled back`
      : `${operation} failed before running any migration: ${reason}`;
    throw new MigrationError(message, { results, cause: error });
  }
  for (const r of results) log.info({ migration: r.migrationName, direction: r.direction }, 'migration applied');
  return results;
}

/**
 * Applies every pending migration in one transaction (what `polyglot migrate` runs). Returns the
 * migrations that ran, empty when the schema was already current; throws MigrationError otherwise.
 * Safe to call from several processes at once: kysely serializes runs with an advisory lock.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResult[]> {
  return unwrap('migrateToLatest', await migratorFor(db).migrateToLatest());
}

/** Reverts the most recent migration. Returns what ran (empty if none had run); throws MigrationError. */
export async function migrateDown(db: Kysely<Database>): Promise<MigrationResult[]> {
  return unwrap('migrateDown', await migratorFor(db).migrateDown());
}

/** Reverts every migration, dropping all data. Returns what ran; throws MigrationError. */
export async function migrateToEmpty(db: Kysely<Database>): Promise<MigrationResult[]> {
  return unwrap('migrateToEmpty', await migratorFor(db).migrateTo(NO_MIGRATIONS));
}

/** Every known migration with `executedAt` set for those already applied (for a status command). */
export async function listMigrations(db: Kysely<Database>): Promise<readonly MigrationInfo[]> {
  return migratorFor(db).getMigrations();
}

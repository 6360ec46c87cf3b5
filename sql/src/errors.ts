import type { MigrationResult } from 'kysely';

/** A migration run failed; every migration of the run was rolled back (Postgres DDL is transactional). */
export class MigrationError extends Error {
  /** What the run attempted: the failed migration has status 'Error', those after it 'NotExecuted'. */
  readonly results: readonly MigrationResult[];

  constructor(message: string, opts: { results: readonly MigrationResult[]; cause: unknown }) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.results = opts.results;
  }
}

/** Partition maintenance could not complete; the partition it names was left as it was. */
export class PartitionMaintenanceError extends Error {
  readonly partition: string;

  constructor(message: string, opts: { partition: string; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.partition = opts.partition;
  }
}

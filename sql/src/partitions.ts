import { sql, type Kysely, type Transaction } from 'kysely';
import { moduleLog } from '../../core/src/log.js';
import type { Database } from './Database.js';
import { PartitionMaintenanceError } from './errors.js';

const log = moduleLog('partitions');

/**
 * Monthly range partitions of translation_history and chat_messages: creation ahead of time and
 * retention (archive, then detach and drop). Months are UTC calendar months; a partition is named
 * `<table>_y<YYYY>m<MM>` and holds [first instant of the month, first instant of the next).
 *
 * There is deliberately no DEFAULT partition: an insert for a month with no partition fails with
 * "no partition of relation ... found for row" (SQLSTATE 23514). ensurePartitions keeps
 * `monthsAhead` months ready, so that error means maintenance stopped running or the row's
 * timestamp is wrong.
 */

export type PartitionedTable = 'translation_history' | 'chat_messages';

export const PARTITIONED_TABLES: readonly PartitionedTable[] = ['translation_history', 'chat_messages'];

const PARTITION_KEY: Readonly<Record<PartitionedTable, string>> = {
  translation_history: 'translated_at',
  chat_messages: 'sent_at',
};

/** One month's partition of a partitioned table. */
export interface MonthlyPartition {
  parent: PartitionedTable;
  name: string;
  /** Inclusive lower bound: 00:00 UTC on the month's first day. */
  from: Date;
  /** Exclusive upper bound: 00:00 UTC on the next month's first day. */
  to: Date;
}

export interface PartitionInfo extends MonthlyPartition {
  /** Table, indexes and TOAST. */
  totalBytes: number;
  /** The planner's estimate (pg_class.reltuples); null until the partition was first analyzed. */
  estimatedRows: number | null;
}

/**
 * Stores every row of a partition before it is dropped. `lines` yields one JSON object per row
 * (without a trailing newline; the generated `search` column left out). The archiver must consume
 * all of it and resolve only once the data is durable: the partition is dropped right after.
 * Throwing keeps the partition.
 */
export type PartitionArchiver = (partition: MonthlyPartition, lines: AsyncIterable<string>) => Promise<void>;

export interface EnsurePartitionsOptions {
  /** Months after the current one to have ready (config.history.partitionMonthsAhead); 0 = this month only. */
  monthsAhead: number;
  now?: Date;
  /** How long to wait for the parent table's lock before giving up (retry on the next run). */
  lockTimeoutMs?: number;
}

export interface DropExpiredPartitionsOptions {
  /** config.history.retentionDays: a partition goes once its whole month is older than this. */
  retentionDays: number;
  archive: PartitionArchiver;
  now?: Date;
  lockTimeoutMs?: number;
  /** Rows read per query while archiving. */
  batchSize?: number;
}

export interface DroppedPartition extends MonthlyPartition {
  archivedRows: number;
}

// DETACH and CREATE ... PARTITION OF take an ACCESS EXCLUSIVE lock on the parent. Waiting for it
// behind a long query would queue every insert behind us, so give up quickly and retry next run.
const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
const DEFAULT_BATCH_SIZE = 5_000;
const DAY_MS = 86_400_000;
// Serializes maintenance across processes (two history processes may run it at once).
const MAINTENANCE_LOCK_KEY = 7_306_010_841_521_440_001n;

const NAME_PATTERN = /^(translation_history|chat_messages)_y(\d{4})m(\d{2})$/;

function isPartitionedTable(name: string | undefined): name is PartitionedTable {
  return PARTITIONED_TABLES.some((table) => table === name);
}

/** The partition of `parent` that holds instant `at`. */
export function monthlyPartition(parent: PartitionedTable, at: Date): MonthlyPartition {
  if (Number.isNaN(at.getTime())) throw new TypeError('monthlyPartition: invalid date');
  const from = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const to = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  const name = `${parent}_y${String(from.getUTCFullYear()).padStart(4, '0')}m${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
  return { parent, name, from, to };
}

/** The month a partition name stands for, or undefined if the name does not follow the convention. */
export function parsePartitionName(name: string): MonthlyPartition | undefined {
  const match = NAME_PATTERN.exec(name);
  if (!match) return undefined;
  const [, parent, year, month] = match;
  if (!isPartitionedTable(parent)) return undefined;
  const monthIndex = Number(month) - 1;
  if (monthIndex < 0 || monthIndex > 11) return undefined;
  return monthlyPartition(parent, new Date(Date.UTC(Number(year), monthIndex, 1)));
}

interface AttachedRow {
  name: string;
  total_bytes: number;
  reltuples: number;
}

async function attachedPartitions(db: Kysely<Database>): Promise<PartitionInfo[]> {
  const { rows } = await sql<AttachedRow>`
    SELECT child.relname AS name, pg_total_relation_size(child.oid)::float8 AS total_bytes, child.reltuples::float8 AS reltuples
    FROM pg_inherits i
    JOIN pg_class child ON child.oid = i.inhrelid
    JOIN pg_class parent ON parent.oid = i.inhparent
    WHERE parent.relnamespace = current_schema()::regnamespace
      AND parent.relname IN (${sql.join([...PARTITIONED_TABLES])})
    ORDER BY child.relname`.execute(db);
  const partitions: PartitionInfo[] = [];
  for (const row of rows) {
    const month = parsePartitionName(row.name);
    if (!month) {
      // Not created by this module: never dropped here, and it may block creating a month it overlaps.
      log.warn({ partition: row.name }, 'partition does not follow the monthly naming convention; ignored');
      continue;
    }
    partitions.push({ ...month, totalBytes: row.total_bytes, estimatedRows: row.reltuples < 0 ? null : row.reltuples });
  }
  return partitions;
}

/**
 * Every monthly partition currently attached, oldest first, with its size: the data behind the
 * partition size metrics (seed C-2).
 */
export async function listPartitions(db: Kysely<Database>): Promise<PartitionInfo[]> {
  const partitions = await attachedPartitions(db);
  return partitions.sort((a, b) => a.from.getTime() - b.from.getTime() || a.parent.localeCompare(b.parent));
}

function wantedPartitions(monthsAhead: number, now: Date): MonthlyPartition[] {
  const wanted: MonthlyPartition[] = [];
  for (let offset = 0; offset <= monthsAhead; offset++) {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
    for (const parent of PARTITIONED_TABLES) wanted.push(monthlyPartition(parent, month));
  }
  return wanted;
}

async function lockForMaintenance(trx: Transaction<Database>, lockTimeoutMs: number): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${MAINTENANCE_LOCK_KEY.toString()}::bigint)`.execute(trx);
  // Set after the advisory lock: a second maintenance run should wait for the first, not fail.
  await sql`SELECT set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true)`.execute(trx);
}

function checkNow(now: Date): void {
  if (Number.isNaN(now.getTime())) throw new TypeError('now must be a valid date');
}

/**
 * Creates the monthly partitions of translation_history and chat_messages from the current month
 * through `monthsAhead` months ahead, where missing. Idempotent; when nothing is missing it takes
 * no lock at all. Returns the partitions it created.
 */
export async function ensurePartitions(
  db: Kysely<Database>,
  { monthsAhead, now = new Date(), lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS }: EnsurePartitionsOptions,
): Promise<MonthlyPartition[]> {
  if (!Number.isInteger(monthsAhead) || monthsAhead < 0) throw new TypeError(`monthsAhead must be an integer >= 0 (got ${monthsAhead})`);
  checkNow(now);
  const wanted = wantedPartitions(monthsAhead, now);
  const missingIn = (attached: PartitionInfo[]): MonthlyPartition[] => {
    const names = new Set(attached.map((p) => p.name));
    return wanted.filter((p) => !names.has(p.name));
  };
  if (missingIn(await attachedPartitions(db)).length === 0) return [];

  const created = await db.transaction().execute(async (trx) => {
    await lockForMaintenance(trx, lockTimeoutMs);
    // Read again under the lock: another process may have created them while we waited.
    const missing = missingIn(await attachedPartitions(trx));
    for (const p of missing) {
      // No IF NOT EXISTS: a detached leftover table of the same name must fail loudly, not leave a gap.
      await sql`CREATE TABLE ${sql.table(p.name)} PARTITION OF ${sql.table(p.parent)}
        FOR VALUES FROM (${sql.lit(p.from.toISOString())}) TO (${sql.lit(p.to.toISOString())})`.execute(trx);
    }
    return missing;
  });
  for (const p of created) log.info({ partition: p.name }, 'partition created');
  return created;
}

interface ArchiveProgress {
  rows: number;
  exhausted: boolean;
}

interface LineRow {
  key_id: string;
  key_at: string;
  line: string;
}

/** The partition's rows as JSON lines, paged by primary key so memory stays flat for any size. */
async function* partitionLines(
  trx: Transaction<Database>,
  partition: MonthlyPartition,
  batchSize: number,
  progress: ArchiveProgress,
): AsyncGenerator<string> {
  const id = sql.ref('p.id');
  const at = sql.ref(`p.${PARTITION_KEY[partition.parent]}`);
  let after: { id: string; at: string } | undefined;
  for (;;) {
    // Keys travel as text so the timestamp keeps its microseconds (a JS Date would round them).
    const { rows } = await sql<LineRow>`
      SELECT ${id}::text AS key_id, ${at}::text AS key_at, (to_jsonb(p) - 'search')::text AS line
      FROM ${sql.table(partition.name)} AS p
      ${after ? sql`WHERE (${id}, ${at}) > (${after.id}, ${after.at})` : sql``}
      ORDER BY ${id}, ${at}
      LIMIT ${batchSize}`.execute(trx);
    for (const row of rows) {
      progress.rows++;
      yield row.line;
    }
    const last = rows.at(-1);
    if (!last || rows.length < batchSize) {
      progress.exhausted = true;
      return;
    }
    after = { id: last.key_id, at: last.key_at };
  }
}

async function archiveAndDrop(
  db: Kysely<Database>,
  partition: MonthlyPartition,
  { archive, lockTimeoutMs, batchSize }: { archive: PartitionArchiver; lockTimeoutMs: number; batchSize: number },
): Promise<DroppedPartition | undefined> {
  return db.transaction().execute(async (trx) => {
    await lockForMaintenance(trx, lockTimeoutMs);
    const stillAttached = (await attachedPartitions(trx)).some((p) => p.name === partition.name);
    if (!stillAttached) return undefined;
    // Archived timestamps then read the same whatever the server's or the role's TimeZone setting.
    await sql`SELECT set_config('TimeZone', 'UTC', true)`.execute(trx);
    // SHARE blocks writes to this partition (a late insert would otherwise be dropped unarchived)
    // but not reads. Held until commit, so what is archived is exactly what is dropped.
    await sql`LOCK TABLE ${sql.table(partition.name)} IN SHARE MODE`.execute(trx);
    const progress: ArchiveProgress = { rows: 0, exhausted: false };
    try {
      await archive(partition, partitionLines(trx, partition, batchSize, progress));
    } catch (err) {
      throw new PartitionMaintenanceError(`archiving ${partition.name} failed; partition kept`, { partition: partition.name, cause: err });
    }
    if (!progress.exhausted) {
      throw new PartitionMaintenanceError(`the archiver returned before reading every row of ${partition.name}; partition kept`, {
        partition: partition.name,
      });
    }
    await sql`ALTER TABLE ${sql.table(partition.parent)} DETACH PARTITION ${sql.table(partition.name)}`.execute(trx);
    await sql`DROP TABLE ${sql.table(partition.name)}`.execute(trx);
    return { ...partition, archivedRows: progress.rows };
  });
}

/**
 * Archives, then detaches and drops, every monthly partition whose whole month ended more than
 * `retentionDays` ago; rows therefore live at least `retentionDays` and at most about a month
 * longer. Each partition goes in its own transaction: archive failure or a lock timeout rolls that
 * one back, keeps it, and throws PartitionMaintenanceError (partitions dropped before it stay
 * dropped). Returns what was dropped, oldest first.
 */
export async function dropExpiredPartitions(
  db: Kysely<Database>,
  { retentionDays, archive, now = new Date(), lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS, batchSize = DEFAULT_BATCH_SIZE }: DropExpiredPartitionsOptions,
): Promise<DroppedPartition[]> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new TypeError(`retentionDays must be an integer >= 1 (got ${retentionDays})`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TypeError(`batchSize must be an integer >= 1 (got ${batchSize})`);
  checkNow(now);
  const cutoff = now.getTime() - retentionDays * DAY_MS;
  const expired = (await listPartitions(db))
    .filter((p) => p.to.getTime() <= cutoff)
    .map(({ parent, name, from, to }): MonthlyPartition => ({ parent, name, from, to }));
  const dropped: DroppedPartition[] = [];
  for (const partition of expired) {
    let result: DroppedPartition | undefined;
    try {
      result = await archiveAndDrop(db, partition, { archive, lockTimeoutMs, batchSize });
    } catch (err) {
      if (err instanceof PartitionMaintenanceError) throw err;
      throw new PartitionMaintenanceError(`dropping ${partition.name} failed; partition kept`, { partition: partition.name, cause: err });
    }
    if (!result) continue;
    log.info({ partition: result.name, archivedRows: result.archivedRows }, 'partition archived and dropped');
    dropped.push(result);
  }
  return dropped;
}

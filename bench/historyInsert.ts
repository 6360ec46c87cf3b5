import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createDb, migrateToLatest, type NewTranslationHistoryRow } from '../sql/src/index.js';
import type { BenchResult } from './result.js';

/**
 * Caption history inserts: one row per statement (the baseline) against batched multi-row
 * inserts with ON CONFLICT DO NOTHING (what the history writer does), on the real Postgres, in
 * the same process and database. Also checks that replaying a batch (a JetStream redelivery)
 * adds nothing.
 */
export async function historyInsertBench(databaseUrl: string, rows = 4_000, batchSize = 250): Promise<BenchResult> {
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const adminClient = new pg.Client({ connectionString: admin.toString() });
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const db = createDb({ url: url.toString(), poolMax: 2, applicationName: 'bench' });
  try {
    await migrateToLatest(db);
    const org = await db.insertInto('organizations').values({ name: 'Bench' }).returning('id').executeTakeFirstOrThrow();
    const user = await db
      .insertInto('users')
      .values({ organization_id: org.id, email: 'host@bench.example', display_name: 'Host', role: 'admin' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const session = await db
      .insertInto('sessions')
      .values({ organization_id: org.id, organizer_id: user.id, title: 'Bench', source_language: 'en', status: 'live', started_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const start = Date.now();
    const makeRows = (prefix: string): NewTranslationHistoryRow[] =>
      Array.from({ length: rows }, (_, i) => ({
        organization_id: org.id,
        session_id: session.id,
        segment_id: `${prefix}-${i}`,
        seq: i,
        source_language: 'en',
        target_language: 'es',
        source_text: `sentence number ${i} of the keynote about live captions`,
        translated_text: `frase número ${i} de la conferencia sobre subtítulos en directo`,
        engine: 'apertium',
        is_final: true,
        translated_at: new Date(start + i),
      }));

    const single = makeRows('single');
    let t0 = performance.now();
    for (const row of single) await db.insertInto('translation_history').values(row).onConflict((oc) => oc.doNothing()).execute();
    const singleMs = performance.now() - t0;

    const batched = makeRows('batch');
    const insertBatches = async () => {
      let inserted = 0;
      for (let i = 0; i < batched.length; i += batchSize) {
        const result = await db
          .insertInto('translation_history')
          .values(batched.slice(i, i + batchSize))
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
      }
      return inserted;
    };
    t0 = performance.now();
    const firstInserted = await insertBatches();
    const batchMs = performance.now() - t0;
    const replayInserted = await insertBatches();

    return {
      name: 'history insert',
      figures: {
        rows,
        batchSize,
        singleRowsPerSec: Math.round(rows / (singleMs / 1000)),
        batchedRowsPerSec: Math.round(rows / (batchMs / 1000)),
        speedup: Number((singleMs / batchMs).toFixed(1)),
        batchedInserted: firstInserted,
        replayInserted,
      },
      notes: 'replayInserted must be 0: a redelivered batch adds no row',
    };
  } finally {
    await db.destroy();
    await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adminClient.end();
  }
}

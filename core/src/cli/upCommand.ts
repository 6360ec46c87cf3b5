import { once } from 'node:events';
import { createDb, ensurePartitions, migrateToLatest } from '../../../sql/src/index.js';
import type { Config } from '../config.js';
import { LocalInfra, type InfraEnv } from '../infra/LocalInfra.js';
import { infraStateFile, persistentInfraOptions, readInfraState } from '../infra/infraState.js';
import { moduleLog } from '../log.js';
import { UsageError } from './UsageError.js';

const log = moduleLog('up');

/**
 * Everything on this machine, in the foreground until Ctrl-C: the local infra (reused when
 * `polyglot infra up` already runs it), the database schema and its partitions. The platform's
 * processes join this list as their issues land.
 */
export async function upCommand(args: string[], cfg: Config): Promise<number> {
  if (args.length > 0) throw new UsageError(`usage: polyglot up   (unexpected: ${args.join(' ')})`);
  const running = await readInfraState(infraStateFile(cfg));
  const infra: { env: InfraEnv; stop(): Promise<void> } = running
    ? { env: running.env, stop: async () => {} } // not ours to stop
    : await LocalInfra.start(persistentInfraOptions(cfg));
  const { env } = infra;
  try {
    const db = createDb({ url: env.PC_DATABASE_URL, poolMax: 2, applicationName: 'polyglot-up' });
    try {
      const applied = await migrateToLatest(db);
      await ensurePartitions(db, { monthsAhead: cfg.history.partitionMonthsAhead });
      log.info({ applied: applied.map((m) => m.migrationName) }, 'database ready');
    } finally {
      await db.destroy();
    }
    process.stdout.write(
      [
        'Polyglot Connect is up:',
        `  NATS      ${env.PC_NATS_URL}`,
        `  Postgres  ${env.PC_DATABASE_URL}`,
        `  Redis     ${env.PC_REDIS_URL}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    return 0;
  } finally {
    await infra.stop();
  }
}

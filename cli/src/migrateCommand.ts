import { createDb, listMigrations, migrateDown, migrateToLatest } from '../../sql/src/index.js';
import type { Config } from '../../core/src/config.js';
import { UsageError } from './UsageError.js';

const USAGE = `usage: polyglot migrate [up|down|status]
  up      apply every pending migration (the default)
  down    roll back the newest applied migration
  status  list the migrations and whether each is applied`;

export async function migrateCommand(args: string[], cfg: Config): Promise<number> {
  const [sub = 'up', ...rest] = args;
  if (rest.length > 0 || !['up', 'down', 'status'].includes(sub)) throw new UsageError(USAGE);
  const db = createDb({ url: cfg.database.url, poolMax: 1, applicationName: 'polyglot-migrate' });
  try {
    if (sub === 'status') {
      for (const m of await listMigrations(db)) {
        process.stdout.write(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}${m.executedAt ? `  (${m.executedAt.toISOString()})` : ''}\n`);
      }
      return 0;
    }
    const results = sub === 'up' ? await migrateToLatest(db) : await migrateDown(db);
    if (results.length === 0) process.stdout.write(sub === 'up' ? 'database is up to date\n' : 'nothing to roll back\n');
    for (const r of results) process.stdout.write(`${sub === 'up' ? 'applied' : 'rolled back'}  ${r.migrationName}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}

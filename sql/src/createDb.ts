import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { moduleLog } from '../../core/src/log.js';
import type { Database } from './Database.js';

export interface CreateDbOptions {
  /** postgres:// URL (config.database.url). */
  url: string;
  /** Upper bound on this process's connections (config.database.poolMax); size it against max_connections. */
  poolMax: number;
  /** Shown in pg_stat_activity, so an operator can tell the processes' connections apart. */
  applicationName?: string;
  log?: Logger;
}

// Waiting longer than this for a pooled connection means the pool is exhausted: fail the request
// instead of queueing it without bound.
const CONNECTION_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 30_000;

const INT8_OID = 20;

/** bigint columns (ids, seq, count(*)) as numbers, refusing any value a double cannot hold exactly. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} exceeds Number.MAX_SAFE_INTEGER`);
  return value;
}

// Per pool rather than pg.types.setTypeParser, which would change every pg client in the process.
const types = new pg.TypeOverrides();
types.setTypeParser(INT8_OID, parseInt8);

/**
 * A `Kysely<Database>` over its own pg.Pool. The owner must call `db.destroy()`, which resolves once
 * every connection is closed.
 *
 * ```ts
 * const db = createDb({ ...config.database, applicationName: 'history' });
 * ```
 */
export function createDb({ url, poolMax, applicationName = 'polyglot', log = moduleLog('db') }: CreateDbOptions): Kysely<Database> {
  if (!Number.isInteger(poolMax) || poolMax < 1) throw new TypeError(`poolMax must be a positive integer (got ${poolMax})`);
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    application_name: applicationName,
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    types,
  });
  // An idle connection that dies (server restart, failover) is reported here; without a listener
  // pg.Pool re-emits it as an uncaught 'error' and the process exits. The pool drops the client.
  pool.on('error', (err) => log.warn({ err }, 'idle database connection failed'));
  const open = new Set<pg.PoolClient>();
  pool.on('connect', (client) => {
    open.add(client);
    client.once('end', () => open.delete(client));
  });
  const dialectPool = {
    connect: () => pool.connect(),
    // pg.Pool.end() resolves once it has asked each connection to close, not once they are closed;
    // wait for them, so `db.destroy()` means no connection is left (clean shutdown, DROP DATABASE).
    end: async () => {
      const closing = [...open].map((client) => new Promise<void>((resolve) => client.once('end', () => resolve())));
      await pool.end();
      await Promise.all(closing);
    },
  };
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: dialectPool }) });
}

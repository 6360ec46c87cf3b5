import { randomBytes } from 'node:crypto';
import pg from 'pg';
import tap from 'tap';
import { LocalInfra, type InfraEnv } from '../../src/infra/LocalInfra.js';

/** What createTestDatabase needs of a test: somewhere to register cleanup. */
interface Teardownable {
  teardown(fn: () => unknown): void;
}

let shared: Promise<InfraEnv> | undefined;

/**
 * The real nats-server, Postgres and Redis for this test file. Under `make test` one set started by
 * `polyglot infra exec` serves the whole run (PC_TEST_INFRA=1); a file run on its own starts a
 * private set and stops it when the file ends.
 */
export function useInfra(): Promise<InfraEnv> {
  shared ??= (async () => {
    const { PC_TEST_INFRA, PC_NATS_URL, PC_DATABASE_URL, PC_REDIS_URL, PC_INFRA_CREDENTIALS_FILE } = process.env;
    if (PC_TEST_INFRA === '1' && PC_NATS_URL && PC_DATABASE_URL && PC_REDIS_URL) {
      return { PC_NATS_URL, PC_DATABASE_URL, PC_REDIS_URL, ...(PC_INFRA_CREDENTIALS_FILE ? { PC_INFRA_CREDENTIALS_FILE } : {}) };
    }
    const infra = await LocalInfra.start();
    tap.teardown(() => infra.stop());
    return infra.env;
  })();
  return shared;
}

/** A fresh, empty database on the shared Postgres, dropped when `t` ends. Returns its URL. */
export async function createTestDatabase(t: Teardownable): Promise<string> {
  const { PC_DATABASE_URL } = await useInfra();
  const admin = new URL(PC_DATABASE_URL);
  admin.pathname = '/postgres';
  const name = `test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  t.teardown(async () => {
    const dropper = new pg.Client({ connectionString: admin.toString() });
    await dropper.connect();
    try {
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await dropper.end();
    }
  });
  const url = new URL(PC_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

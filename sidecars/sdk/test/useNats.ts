import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { connect, type NatsConnection } from 'nats';
import tap from 'tap';

import { freePort } from '../../../core/src/infra/ports.js';
import { NatsServer } from '../../../core/src/infra/NatsServer.js';
import { moduleLog } from '../../../core/src/log.js';

let shared: Promise<string> | undefined;

/**
 * The URL of a real nats-server for this test file: the run's shared one under `make test`
 * (PC_TEST_INFRA=1), else a private one, stopped when the file ends. Language-worker tests need
 * NATS only, so a file run on its own does not start Postgres and Redis as useInfra() would.
 */
export function useNats(): Promise<string> {
  shared ??= (async () => {
    const { PC_TEST_INFRA, PC_NATS_URL } = process.env;
    if (PC_TEST_INFRA === '1' && PC_NATS_URL) return PC_NATS_URL;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pc-nats-'));
    const server = await NatsServer.start({ dir, port: await freePort(), log: moduleLog('test-nats') });
    tap.teardown(async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    });
    return server.url;
  })();
  return shared;
}

/** A connection to useNats()'s server, closed when `t` ends. */
export async function natsConnection(t: { teardown(fn: () => unknown): void }): Promise<NatsConnection> {
  const nc = await connect({ servers: await useNats() });
  t.teardown(() => nc.close());
  return nc;
}

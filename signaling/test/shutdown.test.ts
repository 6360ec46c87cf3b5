import { randomUUID } from 'node:crypto';
import tap from 'tap';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';
import { SessionStore } from '../src/SessionStore.js';
import { spawnEntry } from './fixtures/process.js';
import { mint, testBackends, TEST_SECRET, type Teardown } from './fixtures/signaling.js';
import { refusedUpgrade, TestClient } from './fixtures/TestClient.js';

const backends = testBackends(tap);

async function startMain(t: Teardown, drainTimeoutMs: number) {
  const { databaseUrl, natsUrl, db } = await backends;
  const proc = spawnEntry(t, nodeArgsFor('signaling/src/main.ts'), {
    PC_NATS_URL: natsUrl,
    PC_DATABASE_URL: databaseUrl,
    PC_HTTP_HOST: '127.0.0.1',
    PC_HTTP_PORT: '0',
    PC_SIGNALING_METRICS_PORT: '0',
    PC_JWT_SECRET: TEST_SECRET,
    PC_DRAIN_TIMEOUT_MS: String(drainTimeoutMs),
    PC_LOG_LEVEL: 'info',
  });
  const listening = await proc.logged('listening');
  const port = Number(listening.port);
  const org = randomUUID();
  const session = await new SessionStore({ db }).create({ sub: 'h', org, session: undefined, role: 'host', name: 'H', expiresAtMs: Date.now() + 60_000 }, { title: 'Drain', sourceLanguage: 'en' });
  return { proc, base: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws`, token: await mint({ org, session: session.id }) };
}

tap.test('SIGTERM: goaway with a hint, readiness fails, upgrades get 503, stragglers closed 1001 at the deadline, exit 0', async (t) => {
  const drainTimeoutMs = 1_500;
  const { proc, base, wsUrl, token } = await startMain(t, drainTimeoutMs);
  t.equal((await fetch(`${base}/readyz`)).status, 200);
  const { client } = await TestClient.authenticated(wsUrl, token);

  const sentAt = performance.now();
  proc.child.kill('SIGTERM');
  const goaway = await client.next('goaway');
  t.ok(goaway.reconnectInMs >= 0 && goaway.reconnectInMs < drainTimeoutMs, `reconnect hint ${goaway.reconnectInMs} ms`);

  const ready = await fetch(`${base}/readyz`);
  t.equal(ready.status, 503, '/readyz fails while draining');
  t.match(await ready.json(), { ready: false, draining: true });
  const refused = await refusedUpgrade(wsUrl);
  t.equal(refused.status, 503, 'new upgrades are refused');
  t.ok(Number(refused.headers['retry-after']) > 0, 'with Retry-After');

  // This client ignores the hint: the node closes it when the drain window ends.
  const closed = await client.closed;
  const closedAfterMs = performance.now() - sentAt;
  t.equal(closed.code, 1001);
  t.ok(closedAfterMs >= drainTimeoutMs - 50, `closed after the drain window (${Math.round(closedAfterMs)} ms)`);
  const exit = await proc.exited;
  const exitAfterMs = performance.now() - sentAt;
  t.same(exit, { code: 0, signal: null }, 'exit 0');
  t.ok(exitAfterMs < drainTimeoutMs + 3_000, `exited within the bound (${Math.round(exitAfterMs)} ms)`);
});

tap.test('SIGTERM: clients that follow goaway let the node exit before the deadline', async (t) => {
  const drainTimeoutMs = 30_000;
  const { proc, wsUrl, token } = await startMain(t, drainTimeoutMs);
  const clients = await Promise.all([1, 2, 3].map(() => TestClient.authenticated(wsUrl, token)));
  const sentAt = performance.now();
  proc.child.kill('SIGTERM');
  await Promise.all(
    clients.map(async ({ client }) => {
      await client.next('goaway');
      await client.close();
    }),
  );
  t.same(await proc.exited, { code: 0, signal: null });
  const ms = performance.now() - sentAt;
  t.ok(ms < 5_000, `exited ${Math.round(ms)} ms after SIGTERM, long before the ${drainTimeoutMs} ms deadline`);
});

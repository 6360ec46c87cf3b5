import tap from 'tap';
import { mint, seedSession, startSignaling, testBackends } from './fixtures/signaling.js';
import { refusedUpgrade, TestClient } from './fixtures/TestClient.js';

const backends = testBackends(tap);

tap.test('a flooding socket is rate-limited, then closed 4429', async (t) => {
  const s = await startSignaling(t, { limits: { rateLimit: { burst: 10, perSecond: 5, maxDropped: 10 } } }, await backends);
  const session = await seedSession(s.server);
  const { client } = await TestClient.authenticated(s.wsUrl, await mint({ org: session.organizationId, session: session.id }));
  // The auth message spent one token of 10: 9 pings pass, then 10 are dropped, then the socket closes.
  for (let i = 0; i < 200; i++) client.send({ id: i, type: 'ping' });
  const limited = await client.next('error');
  t.match(limited, { code: 'rate_limited' });
  t.ok((limited.retryAfterMs ?? 0) > 0, 'with a retry hint');
  const closed = await client.closed;
  t.equal(closed.code, 4429);
  const pongs = client.pending().filter((m) => m.type === 'pong').length;
  t.equal(pongs, 9, 'the burst was served before the limit');
  t.equal(client.pending().filter((m) => m.type === 'error').length, 0, 'one rate_limited notice per episode, not one per dropped message');
});

tap.test('a socket that floods while its auth is being verified is closed 4429 too', async (t) => {
  const s = await startSignaling(t, { limits: { rateLimit: { burst: 10, perSecond: 5, maxDropped: 10 } } }, await backends);
  const session = await seedSession(s.server);
  const client = await TestClient.open(s.wsUrl);
  client.send({ type: 'auth', token: await mint({ org: session.organizationId, session: session.id }) });
  for (let i = 0; i < 200; i++) client.send({ id: i, type: 'ping' });
  t.equal((await client.closed).code, 4429);
});

tap.test('beyond PC_MAX_CONNECTIONS the upgrade is refused with 503 + Retry-After', async (t) => {
  const s = await startSignaling(t, { maxConnections: 2, retryAfterSeconds: 7 }, await backends);
  const a = await TestClient.open(s.wsUrl);
  const b = await TestClient.open(s.wsUrl);
  const refused = await refusedUpgrade(s.wsUrl);
  t.equal(refused.status, 503);
  t.equal(refused.headers['retry-after'], '7');
  t.match(JSON.parse(refused.body), { error: { code: 'unavailable', message: /connection limit/ } });
  const metrics = await (await fetch(`${s.metricsBase}/metrics`)).text();
  t.match(metrics, /pc_signaling_upgrades_rejected_total\{reason="limit",node="[^"]+"\} 1/);
  t.match(metrics, /pc_signaling_connections\{node="[^"]+"\} 2/);

  await a.close();
  const c = await TestClient.open(s.wsUrl);
  t.pass('a freed slot is usable again');
  await Promise.all([b.close(), c.close()]);
});

tap.test('a token in the URL is refused; so is any path but /ws', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const inUrl = await refusedUpgrade(`${s.wsUrl}?token=abc`);
  t.equal(inUrl.status, 400);
  t.match(inUrl.body, /never in the URL/);
  t.equal((await refusedUpgrade(s.wsUrl.replace('/ws', '/other'))).status, 404);
});

tap.test('health, readiness and metrics endpoints', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  t.equal((await fetch(`${s.base}/healthz`)).status, 200);
  const ready = await fetch(`${s.base}/readyz`);
  t.equal(ready.status, 200);
  t.match(await ready.json(), { ready: true, draining: false });
  const metrics = await fetch(`${s.metricsBase}/metrics`);
  t.match(metrics.headers.get('content-type'), /text\/plain/);
  t.match(await metrics.text(), /pc_signaling_connections_max\{node="[^"]+"\} 100/);
  t.equal((await fetch(`${s.base}/ws`)).status, 426, 'plain GET on the WebSocket path');
  const publicMetrics = await fetch(`${s.base}/metrics`);
  t.equal(publicMetrics.status, 404, 'no /metrics on the public port');
  t.notMatch(await publicMetrics.text(), /pc_signaling/);
  t.equal((await fetch(`${s.metricsBase}/healthz`)).status, 200);
  t.equal((await fetch(`${s.metricsBase}/api/sessions`)).status, 404, 'the metrics listener serves nothing else');
});

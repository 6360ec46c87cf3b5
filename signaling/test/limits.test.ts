import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import tap from 'tap';
import { DemandWatcher } from '../../core/src/captions/DemandWatcher.js';
import { onceEvent } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import { mint, seedSession, startSignaling, testBackends } from './fixtures/signaling.js';
import { refusedUpgrade, TestClient } from './fixtures/TestClient.js';

const backends = testBackends(tap);

tap.test('a flooding socket is rate-limited, then closed 4429', async (t) => {
  // A refill of one token per 1,000 s: however slowly a loaded machine delivers the flood, the burst
  // is all the socket gets, so the count of pongs below is exact.
  const s = await startSignaling(t, { limits: { rateLimit: { burst: 10, perSecond: 0.001, maxDropped: 10 } } }, await backends);
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

tap.test('beyond PC_MAX_CONNECTIONS authenticated sockets the upgrade is refused with 503 + Retry-After', async (t) => {
  const s = await startSignaling(t, { maxConnections: 2, retryAfterSeconds: 7 }, await backends);
  const session = await seedSession(s.server);
  const token = await mint({ org: session.organizationId, session: session.id });
  const { client: a } = await TestClient.authenticated(s.wsUrl, token);
  const { client: b } = await TestClient.authenticated(s.wsUrl, token);
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

tap.test('unauthenticated sockets have their own bound and never take the authenticated capacity', async (t) => {
  const s = await startSignaling(t, { maxConnections: 2, retryAfterSeconds: 3, admission: { maxUnauthenticated: 2 } }, await backends);
  const session = await seedSession(s.server);
  const token = await mint({ org: session.organizationId, session: session.id });
  const idle = [await TestClient.open(s.wsUrl), await TestClient.open(s.wsUrl)];
  const refused = await refusedUpgrade(s.wsUrl);
  t.equal(refused.status, 503, 'a third socket waiting to authenticate is refused');
  t.equal(refused.headers['retry-after'], '3');
  t.match(JSON.parse(refused.body), { error: { code: 'unavailable', message: /waiting to authenticate/ } });
  await idle[0]?.close();
  // Two viewers authenticate while a socket still idles: the idle one holds none of their capacity.
  const a = await TestClient.authenticated(s.wsUrl, token);
  const b = await TestClient.authenticated(s.wsUrl, token);
  t.equal(s.server.admissionForTesting().authenticated, 2);
  t.equal(s.server.admissionForTesting().unauthenticated, 1);
  t.equal((await refusedUpgrade(s.wsUrl)).status, 503, 'now the authenticated capacity is full');
  const metrics = await (await fetch(`${s.metricsBase}/metrics`)).text();
  t.match(metrics, /pc_signaling_upgrades_rejected_total\{reason="unauthenticated_limit",node="[^"]+"\} 1/);
  t.match(metrics, /pc_signaling_upgrades_rejected_total\{reason="limit",node="[^"]+"\} 1/);
  await Promise.all([a.client.close(), b.client.close(), idle[1]?.close()]);
});

tap.test('per-address limits: 429 + Retry-After beyond the unauthenticated and the total bound of one address', async (t) => {
  const s = await startSignaling(t, { retryAfterSeconds: 4, admission: { maxPerAddress: 3, maxUnauthenticatedPerAddress: 2, exemptLoopback: false } }, await backends);
  const session = await seedSession(s.server);
  const token = await mint({ org: session.organizationId, session: session.id });
  const u1 = await TestClient.open(s.wsUrl);
  const u2 = await TestClient.open(s.wsUrl);
  const third = await refusedUpgrade(s.wsUrl);
  t.equal(third.status, 429);
  t.equal(third.headers['retry-after'], '4');
  t.match(JSON.parse(third.body), { error: { code: 'rate_limited', message: /unauthenticated connections from your address/ } });
  u1.send({ type: 'auth', token });
  await u1.next('welcome');
  const u3 = await TestClient.open(s.wsUrl);
  t.pass('an authenticated socket frees its unauthenticated place');
  const fourth = await refusedUpgrade(s.wsUrl);
  t.equal(fourth.status, 429);
  t.match(JSON.parse(fourth.body), { error: { message: /too many connections from your address/ } });
  t.same(s.server.admissionForTesting().countsOf('127.0.0.1'), { total: 3, unauthenticated: 2 });
  await Promise.all([u1.close(), u2.close(), u3.close()]);
});

/** A client that completes the WebSocket upgrade, authenticates, then never reads nor answers a ping. */
async function halfOpenClient(wsUrl: string, frames: object[]): Promise<net.Socket> {
  const url = new URL(wsUrl);
  const socket = net.connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  socket.write(
    `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let head = '';
  while (!head.includes('\r\n\r\n')) head += String((await once(socket, 'data'))[0]);
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head.split('\r\n')[0]}`);
  for (const frame of frames) socket.write(maskedTextFrame(JSON.stringify(frame)));
  socket.pause(); // from here on: no reads, so no pong ever
  return socket;
}

function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([header, mask, masked]);
}

tap.test('a half-open socket (no pong) is dropped, and with it its language demand and counts', async (t) => {
  const s = await startSignaling(t, { limits: { pingIntervalMs: 200 } }, await backends);
  const session = await seedSession(s.server);
  const watcher = await DemandWatcher.open(s.nc, session.id, moduleLog('test'));
  t.teardown(() => watcher.close());
  const wanted = onceEvent(watcher, 'change');
  const opened = onceEvent(s.server.hub.observer, 'authenticated');
  const socket = await halfOpenClient(s.wsUrl, [
    { type: 'auth', token: await mint({ org: session.organizationId, session: session.id }) },
    { id: 'l', type: 'setLanguage', language: 'es' },
  ]);
  t.teardown(() => socket.destroy());
  await opened;
  t.match((await wanted)[0], { added: ['es'] }, 'the socket made es wanted');
  t.equal(s.server.hub.size, 1);

  const dropped = onceEvent(s.server.hub.observer, 'connectionClosed');
  const unwanted = onceEvent(watcher, 'change');
  await dropped;
  t.match((await unwanted)[0], { removed: ['es'] }, 'its demand is withdrawn');
  t.equal(s.server.hub.size, 0);
  t.equal(s.server.hub.roomsForTesting().size, 0, 'its room is gone');
  t.same(s.server.admissionForTesting().countsOf('127.0.0.1'), { total: 0, unauthenticated: 0 });
});

tap.test('a client that answers pings stays connected across many intervals', async (t) => {
  const s = await startSignaling(t, { limits: { pingIntervalMs: 100 } }, await backends);
  const session = await seedSession(s.server);
  const { client } = await TestClient.authenticated(s.wsUrl, await mint({ org: session.organizationId, session: session.id }));
  let pings = 0;
  const fivePings = new Promise<void>((resolve) => client.ws.on('ping', () => ++pings === 5 && resolve()));
  await fivePings;
  client.send({ id: 'still', type: 'ping' });
  t.match(await client.next('pong'), { id: 'still' }, 'ws answers pings by itself, so a live client is never dropped');
  await client.close();
});

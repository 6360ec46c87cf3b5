import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import tap from 'tap';
import { signDevToken } from '../src/devToken.js';
import { TokenVerifier } from '../src/TokenVerifier.js';
import { mint, seedSession, startSignaling, testBackends, TEST_SECRET } from './fixtures/signaling.js';
import { TestClient } from './fixtures/TestClient.js';

const backends = testBackends(tap);

tap.test('no auth message within the deadline closes 4401', async (t) => {
  const s = await startSignaling(t, { limits: { authTimeoutMs: 150 } }, await backends);
  const client = await TestClient.open(s.wsUrl);
  const { code, reason } = await client.closed;
  t.equal(code, 4401);
  t.match(reason, /no auth message within 150 ms/);
});

tap.test('a first message other than auth closes 4401, even a valid one', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  for (const first of [{ type: 'ping' }, 'not json', { type: 'nope' }]) {
    const client = await TestClient.open(s.wsUrl);
    client.send(first);
    t.equal((await client.closed).code, 4401, `first message ${JSON.stringify(first)}`);
  }
});

tap.test('bad signature, expired token, bad claims: 4401', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const cases: Array<[string, string, RegExp]> = [
    ['wrong secret', await mint(claims, 'another-secret-0123456789abcdef0123456789'), /signature/],
    ['expired', await signDevToken(TEST_SECRET, { sub: 'a', role: 'viewer', ttlSeconds: 60, ...claims }, Date.now() - 3_600_000), /expired/],
    ['garbage', 'not.a.jwt', /malformed/],
    ['org not a uuid', await mint({ ...claims, org: 'acme' }), /claims/],
    ['no session claim', await mint({ org: session.organizationId }), /no session/],
  ];
  for (const [what, token, reason] of cases) {
    const client = await TestClient.open(s.wsUrl);
    client.send({ type: 'auth', token });
    const closed = await client.closed;
    t.equal(closed.code, 4401, what);
    t.match(closed.reason, reason, what);
  }
});

tap.test('a token living longer than the maximum lifetime, or without iat, is refused (claims)', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id, role: 'viewer' };
  const key = new TextEncoder().encode(TEST_SECRET);
  const now = Math.floor(Date.now() / 1000);
  const cases: Array<[string, string, RegExp]> = [
    ['25 h lifetime', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('a').setIssuedAt(now).setExpirationTime(now + 25 * 3600).sign(key), /lifetime 90000 s exceeds the maximum of 86400 s/],
    ['no iat', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('a').setExpirationTime(now + 600).sign(key), /iat/],
  ];
  for (const [what, token, reason] of cases) {
    const client = await TestClient.open(s.wsUrl);
    client.send({ type: 'auth', token });
    const closed = await client.closed;
    t.equal(closed.code, 4401, what);
    t.match(closed.reason, reason, what);
  }
  const day = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('a').setIssuedAt(now).setExpirationTime(now + 24 * 3600).sign(key);
  const { client } = await TestClient.authenticated(s.wsUrl, day);
  await client.close();
  t.pass('exactly the maximum is accepted');
});

tap.test("a token for another organization's session closes 4404 exactly as an unknown one; ended 4410", async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const ours = await seedSession(s.server);
  const theirs = await seedSession(s.server);
  const intruder = await TestClient.open(s.wsUrl);
  intruder.send({ type: 'auth', token: await mint({ org: ours.organizationId, session: theirs.id }) });
  const foreign = await intruder.closed;

  const lost = await TestClient.open(s.wsUrl);
  lost.send({ type: 'auth', token: await mint({ org: ours.organizationId, session: randomUUID() }) });
  const missing = await lost.closed;
  t.equal(missing.code, 4404);
  t.same(foreign, missing, 'same code and reason: nothing tells which ids exist in other organizations');

  await s.server.store.end(ours.organizationId, ours.id);
  const late = await TestClient.open(s.wsUrl);
  late.send({ type: 'auth', token: await mint({ org: ours.organizationId, session: ours.id }) });
  t.equal((await late.closed).code, 4410);
});

tap.test('a valid token gets welcome; a viewer cannot produce; the socket stays usable', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  const token = await mint({ org: session.organizationId, session: session.id, sub: 'v1', name: 'Vera' });
  const { client, welcome } = await TestClient.authenticated(s.wsUrl, token);
  t.match(welcome, { role: 'viewer', sub: 'v1', name: 'Vera', session: { id: session.id, title: 'Keynote', sourceLanguage: 'en', status: 'scheduled' } });
  t.ok(welcome.expiresAt > Date.now());

  client.send({ id: 7, type: 'produce', transportId: randomUUID(), kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }] } });
  t.match(await client.next('error'), { id: 7, code: 'forbidden' });
  client.send({ id: 8, type: 'createTransport', direction: 'send' });
  t.match(await client.next('error'), { id: 8, code: 'forbidden' });
  client.send({ id: 9, type: 'ping' });
  t.match(await client.next('pong'), { id: 9 });
  client.send({ id: 10, type: 'auth', token });
  t.match(await client.next('error'), { id: 10, code: 'invalid_state' }, 'a second auth is refused, not fatal');
  await client.close();
});

tap.test('refresh: same identity extends expiry; another identity or a bad token is refused', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  const base = { org: session.organizationId, session: session.id, sub: 'v1' };
  const { client, welcome } = await TestClient.authenticated(s.wsUrl, await mint({ ...base, ttlSeconds: 60 }));

  client.send({ id: 'r1', type: 'refresh', token: await mint({ ...base, ttlSeconds: 7200 }) });
  const refreshed = await client.next('refreshed');
  t.equal(refreshed.id, 'r1');
  t.ok(refreshed.expiresAt > welcome.expiresAt + 3_600_000, 'the new expiry applies');

  client.send({ id: 'r2', type: 'refresh', token: await mint({ ...base, sub: 'mallory' }) });
  t.match(await client.next('error'), { id: 'r2', code: 'refresh_mismatch', message: /sub/ });
  client.send({ id: 'r3', type: 'refresh', token: await mint({ ...base, role: 'host' }) });
  t.match(await client.next('error'), { id: 'r3', code: 'refresh_mismatch', message: /role/ });
  client.send({ id: 'r4', type: 'refresh', token: await mint(base, 'another-secret-0123456789abcdef0123456789') });
  t.match(await client.next('error'), { id: 'r4', code: 'invalid_token' });
  client.send({ id: 'p', type: 'ping' });
  t.match(await client.next('pong'), { id: 'p' }, 'refused refreshes leave the socket on its valid token');
  await client.close();
});

tap.test('a token that expires on an open socket closes it 4401', async (t) => {
  const s = await startSignaling(t, {}, await backends);
  const session = await seedSession(s.server);
  // exp is in whole seconds: this one ends within the next second (verification allows 5 s skew).
  const { client } = await TestClient.authenticated(s.wsUrl, await mint({ org: session.organizationId, session: session.id, ttlSeconds: 1 }));
  const closed = await client.closed;
  t.equal(closed.code, 4401);
  t.match(closed.reason, /expired/);
});

tap.test('RS256 tokens verified against a JWKS URL; HS256 tokens are then refused', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const jwks = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => jwks.close(() => resolve())));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;

  const s = await startSignaling(t, { verifier: new TokenVerifier({ jwksUrl, issuer: 'https://idp.example', audience: 'polyglot-connect' }) }, await backends);
  const session = await seedSession(s.server);
  const rs256 = await new SignJWT({ org: session.organizationId, session: session.id, role: 'viewer', name: 'Rita' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setSubject('idp|rita')
    .setIssuer('https://idp.example')
    .setAudience('polyglot-connect')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(privateKey);
  const { client, welcome } = await TestClient.authenticated(s.wsUrl, rs256);
  t.match(welcome, { sub: 'idp|rita', name: 'Rita' });
  await client.close();

  const hs = await TestClient.open(s.wsUrl);
  hs.send({ type: 'auth', token: await mint({ org: session.organizationId, session: session.id }) });
  t.equal((await hs.closed).code, 4401, 'a development token is no good against the JWKS');
});

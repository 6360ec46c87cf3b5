/**
 * Counterexamples the protocol fuzz tests (fuzzWebSocket.test.ts, fuzzRest.test.ts) found, each
 * kept as a plain test of the answer it must get now.
 */
import tap from 'tap';
import { documentedCodes } from './fixtures/documentedCodes.js';
import { mint, seedSession, startSignaling } from './fixtures/signaling.js';
import { RawHttp } from './fixtures/RawHttp.js';
import { TestClient } from './fixtures/TestClient.js';

const docs = documentedCodes();

tap.test('a text frame that is not UTF-8 closes the socket with 1007, a documented close code', async (t) => {
  const s = await startSignaling(t);
  const session = await seedSession(s.server);
  const { client } = await TestClient.authenticated(s.wsUrl, await mint({ org: session.organizationId, session: session.id }));
  // fuzz seed 289729193: [auth viewer, text frame 0xff]
  client.ws.send(Buffer.from([0xff]), { binary: false });
  const closed = await client.closed;
  t.equal(closed.code, 1007);
  t.ok(docs.closeCodes.has(closed.code), 'docs/protocol.md lists it');
});

tap.test('a request Node cannot parse, or with headers over the limit, gets a documented status with a JSON error', async (t) => {
  const s = await startSignaling(t);
  const port = Number(new URL(s.base).port);
  // fuzz seed 2008309108: a header value with a control character.
  const bad = await RawHttp.send(port, Buffer.from('GET /api/sessions HTTP/1.1\r\nHost: x\r\na: \u0001\r\nConnection: close\r\n\r\n', 'latin1'));
  t.equal(bad?.status, 400);
  t.match(bad?.headers.get('content-type'), /^application\/json/);
  t.same(JSON.parse(bad?.body.toString() ?? ''), { error: { code: 'bad_request', message: 'malformed HTTP request' } });
  t.ok(docs.httpErrors.get(400)?.has('bad_request'), 'documented');

  const big = await RawHttp.send(port, Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\nConnection: close\r\n\r\n`));
  t.equal(big?.status, 431);
  t.same(JSON.parse(big?.body.toString() ?? ''), { error: { code: 'headers_too_large', message: 'request headers too large' } });
  t.ok(docs.httpErrors.get(431)?.has('headers_too_large'), 'documented');
});

tap.test('a plain request to /ws gets 426, a documented status, with its JSON error', async (t) => {
  const s = await startSignaling(t);
  // fuzz seed 1517357380: GET /ws without upgrade headers.
  const res = await RawHttp.send(Number(new URL(s.base).port), Buffer.from('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  t.equal(res?.status, 426);
  t.equal(res?.headers.get('upgrade'), 'websocket');
  t.same(JSON.parse(res?.body.toString() ?? ''), { error: { code: 'upgrade_required', message: 'open a WebSocket here' } });
  t.ok(docs.httpErrors.get(426)?.has('upgrade_required'), 'documented');
});

tap.test('a broken WebSocket handshake gets 400 invalid_request with a JSON body, not ws’s text/html', async (t) => {
  const s = await startSignaling(t);
  const port = Number(new URL(s.base).port);
  const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==';
  // The fuzz test's upgrade variants: a bad key, an old version, a POST, a malformed protocol list.
  for (const [what, request] of [
    ['bad key', 'GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: bad\r\nSec-WebSocket-Version: 13'],
    ['version 7', `GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n${key}\r\nSec-WebSocket-Version: 7`],
    ['POST', `POST /ws HTTP/1.1\r\nUpgrade: websocket\r\n${key}\r\nSec-WebSocket-Version: 13`],
    ['protocol list', `GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a b`],
  ] as const) {
    const res = await RawHttp.send(port, Buffer.from(`${request}\r\nHost: x\r\nConnection: Upgrade\r\n\r\n`));
    t.equal(res?.status, 400, what);
    t.match(res?.headers.get('content-type'), /^application\/json/, `${what}: JSON`);
    t.match(JSON.parse(res?.body.toString() ?? '{}'), { error: { code: 'invalid_request', message: String } }, what);
  }
  const ok = await RawHttp.send(port, Buffer.from(`GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
  t.equal(ok?.status, 101, 'a sound handshake is still accepted');
});

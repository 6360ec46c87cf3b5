/**
 * Counterexamples the protocol fuzz tests (fuzzWebSocket.test.ts, fuzzRest.test.ts) found, each
 * kept as a plain test of the answer it must get now.
 */
import tap from 'tap';
import { documentedCodes } from './fixtures/documentedCodes.js';
import { mint, seedSession, startSignaling } from './fixtures/signaling.js';
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

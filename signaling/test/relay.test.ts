/**
 * The media signaling relay against the real SFU process: join, transports, consume, resume,
 * producer announcements, leaving, and the SFU going away. The producer here is a server-side
 * one (the SFU's createPlainPublisher), so no browser is needed; e2e.browser.test.ts does the
 * browser side.
 */
import { randomUUID } from 'node:crypto';
import tap from 'tap';
import { SfuClient } from '../../core/src/sfu/SfuClient.js';
import { createDb, migrateToLatest } from '../../sql/src/index.js';
import { createTestDatabase } from '../../core/test/support/infra.js';
import { privateNats, startSfu } from './fixtures/media.js';
import { mint, seedSession, startSignaling } from './fixtures/signaling.js';
import { TestClient } from './fixtures/TestClient.js';

tap.test('relay: join, transports, consume, producer announcements, leave, SFU shutdown', async (t) => {
  const { url: natsUrl, nc } = await privateNats(t);
  const databaseUrl = await createTestDatabase(tap);
  const db = createDb({ url: databaseUrl, poolMax: 4, applicationName: 'relay-test' });
  t.teardown(() => db.destroy());
  await migrateToLatest(db);
  const s = await startSignaling(t, { sfuTimeoutMs: 3_000 }, { db, nc });
  const session = await seedSession(s.server);
  const viewerToken = await mint({ org: session.organizationId, session: session.id, sub: 'v' });
  const { client: viewer } = await TestClient.authenticated(s.wsUrl, viewerToken);

  viewer.send({ id: 'early', type: 'join' });
  t.match(await viewer.next('error'), { id: 'early', code: 'unavailable', retryAfterMs: Number }, 'no SFU on the bus yet: unavailable, with a retry hint');

  const sfu = await startSfu(t, natsUrl, undefined, databaseUrl);
  viewer.send({ id: 'j', type: 'join' });
  const joined = await viewer.next('joined');
  t.match(joined, { id: 'j', producers: [] });
  t.ok(joined.routerRtpCapabilities.codecs?.some((c) => c.mimeType.toLowerCase() === 'audio/opus'), 'the router speaks Opus');

  viewer.send({ id: 'send', type: 'createTransport', direction: 'send' });
  t.match(await viewer.next('error'), { id: 'send', code: 'forbidden' }, 'a viewer gets no send transport');
  viewer.send({ id: 'recv', type: 'createTransport', direction: 'recv' });
  const transport = await viewer.next('transportCreated');
  t.match(transport, { id: 'recv', iceCandidates: [{ ip: '127.0.0.1' }] });

  // A producer appears (a server-side source): the viewer is told.
  const sfuClient = new SfuClient({ nc });
  t.teardown(() => sfuClient.close());
  const publisher = await sfuClient.request(sfu.nodeId, 'createPlainPublisher', { session: session.id });
  const added = await viewer.next('producerAdded');
  t.same(added, { type: 'producerAdded', producerId: publisher.producerId, kind: 'audio' });

  const caps = joined.routerRtpCapabilities;
  // Media bounds: a viewer creating receive transports in a loop gets media_limit at the SFU's
  // per-peer bound (2 by default, with the one above); another viewer still gets one.
  const refused: unknown[] = [];
  for (let i = 0; i < 4 && refused.length === 0; i += 1) {
    viewer.send({ id: `more-${i}`, type: 'createTransport', direction: 'recv' });
    let reply = await viewer.next();
    while (!('id' in reply) || reply.id !== `more-${i}`) reply = await viewer.next();
    if (reply.type === 'error') refused.push(reply);
  }
  t.match(refused, [{ id: 'more-1', code: 'media_limit', message: /at most 2 receive transport/ }], 'the third receive transport of one viewer is media_limit');
  const { client: other } = await TestClient.authenticated(s.wsUrl, await mint({ org: session.organizationId, session: session.id, sub: 'other' }));
  other.send({ id: 'oj', type: 'join' });
  await other.next('joined');
  other.send({ id: 'ot', type: 'createTransport', direction: 'recv' });
  t.match(await other.next('transportCreated'), { id: 'ot' }, 'another viewer still gets a transport');
  await other.close();
  viewer.send({ id: 'c', type: 'consume', transportId: transport.transportId, producerId: publisher.producerId, rtpCapabilities: caps });
  const consumed = await viewer.next('consumed');
  t.match(consumed, { id: 'c', producerId: publisher.producerId, kind: 'audio' });
  viewer.send({ id: 'r', type: 'resume', consumerId: consumed.consumerId });
  t.match(await viewer.next('resumed'), { id: 'r', consumerId: consumed.consumerId });
  viewer.send({ id: 'nf', type: 'consume', transportId: transport.transportId, producerId: randomUUID(), rtpCapabilities: caps });
  t.match(await viewer.next('error'), { id: 'nf', code: 'not_found' }, "an unknown producer is the SFU's not_found");

  // A late joiner learns of the producer from join itself.
  const { client: late } = await TestClient.authenticated(s.wsUrl, await mint({ org: session.organizationId, session: session.id, sub: 'late' }));
  late.send({ id: 'j2', type: 'join' });
  t.match(await late.next('joined'), { producers: [{ producerId: publisher.producerId, kind: 'audio' }] });

  await sfuClient.request(sfu.nodeId, 'closePeer', { session: session.id, peer: publisher.peer });
  t.same(await viewer.next('producerClosed'), { type: 'producerClosed', producerId: publisher.producerId });

  viewer.send({ id: 'leave', type: 'leaveMedia' });
  t.match(await viewer.next('mediaLeft'), { id: 'leave' });
  viewer.send({ id: 'after', type: 'createTransport', direction: 'recv' });
  t.match(await viewer.next('error'), { id: 'after', code: 'invalid_state' }, 'media again needs a join');

  // The SFU shuts down: sockets still in media are told to set it up again.
  sfu.child.kill('SIGTERM');
  t.match(await late.next('mediaReset'), { reason: 'shutdown' });
  t.same((await sfu.exited).code, 0);
  late.send({ id: 'p', type: 'ping' });
  t.match(await late.next('pong'), { id: 'p' }, 'the socket itself lives on');
  await Promise.all([viewer.close(), late.close()]);
});

import tap from 'tap';
import { mint, seedSession, startSignaling, testBackends } from './fixtures/signaling.js';
import { TestClient } from './fixtures/TestClient.js';

tap.test('hosts see the viewer count of their session across signaling nodes', async (t) => {
  const backends = await testBackends(tap);
  // Two nodes on one NATS and one database, as behind a load balancer.
  const a = await startSignaling(t, {}, backends);
  const b = await startSignaling(t, {}, backends);
  const session = await seedSession(a.server);
  const claims = { org: session.organizationId, session: session.id };

  const { client: host } = await TestClient.authenticated(a.wsUrl, await mint({ ...claims, role: 'host', sub: 'h' }));
  t.match(await host.next('viewerCount'), { count: 0 });

  const { client: local } = await TestClient.authenticated(a.wsUrl, await mint({ ...claims, sub: 'v1' }));
  t.match(await host.next('viewerCount'), { count: 1 }, 'a viewer on the same node');
  const { client: remote } = await TestClient.authenticated(b.wsUrl, await mint({ ...claims, sub: 'v2' }));
  t.match(await host.next('viewerCount'), { count: 2 }, 'a viewer on another node');
  const { client: speaker } = await TestClient.authenticated(b.wsUrl, await mint({ ...claims, role: 'speaker', sub: 's' }));
  t.match(await speaker.next('viewerCount'), { count: 2 }, 'a speaker joining node b learns the total (demand bucket)');

  await remote.close();
  t.match(await host.next('viewerCount'), { count: 1 }, 'the remote viewer left');
  await local.close();
  t.match(await host.next('viewerCount'), { count: 0 });
  t.same(
    host.pending().filter((m) => m.type !== 'viewerCount'),
    [],
    'nothing else was pushed to the host',
  );
  await Promise.all([host.close(), speaker.close()]);
  t.equal(a.server.hub.roomsForTesting().size, 0, 'rooms are dropped with their last socket');
});

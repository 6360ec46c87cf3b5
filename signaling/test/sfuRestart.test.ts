/**
 * An SFU process that dies without draining (SIGKILL) sends no sessionClosed: the signaling node
 * learns it from the announcements (SfuNodeWatch) and sends mediaReset to the sockets in media of
 * its sessions, whether the process comes back (a new instance under the same node id) or not
 * (silence). The sockets themselves live on, and media can be set up again on the new process.
 */
import { once } from 'node:events';
import tap from 'tap';
import { encode } from '../../core/src/sfu/rpcProtocol.js';
import { SFU_ANNOUNCE_SUBJECT } from '../../core/src/subjects.js';
import { SfuNodeWatch, type SfuNodeLossReason } from '../src/SfuNodeWatch.js';
import { createDb, migrateToLatest } from '../../sql/src/index.js';
import { createTestDatabase } from '../../core/test/support/infra.js';
import { privateNats, startSfu } from './fixtures/media.js';
import { mint, seedSession, startSignaling } from './fixtures/signaling.js';
import { TestClient } from './fixtures/TestClient.js';

tap.test('a SIGKILLed SFU: mediaReset when it restarts and when it stays down; media again on the new process', async (t) => {
  const { url: natsUrl, nc } = await privateNats(t);
  const db = createDb({ url: await createTestDatabase(tap), poolMax: 4, applicationName: 'sfu-restart-test' });
  t.teardown(() => db.destroy());
  await migrateToLatest(db);
  const s = await startSignaling(t, { sfuTimeoutMs: 3_000 }, { db, nc });
  const session = await seedSession(s.server);
  const nodeId = `sfu-restart-${process.pid}`;
  const first = await startSfu(t, natsUrl, nodeId);

  const { client: host } = await TestClient.authenticated(s.wsUrl, await mint({ org: session.organizationId, session: session.id, sub: 'h', role: 'host' }));
  const { client: reader } = await TestClient.authenticated(s.wsUrl, await mint({ org: session.organizationId, session: session.id, sub: 'r' }));
  host.send({ id: 'j', type: 'join' });
  await host.next('joined');
  host.send({ id: 's', type: 'createTransport', direction: 'send' });
  await host.next('transportCreated');

  first.child.kill('SIGKILL');
  await first.exited;
  const second = await startSfu(t, natsUrl, nodeId);
  // Which comes first depends on how long the new process takes to start: under 3 announce
  // intervals (6 s) it is seen as restarted, beyond as silent first. Both are checked below.
  t.match(await host.next('mediaReset'), { reason: /^media_server_(restarted|lost)$/ }, 'the host in media is told its media is gone');

  host.send({ id: 'j2', type: 'join' });
  t.match(await host.next('joined'), { id: 'j2', producers: [] }, 'join again: served by the new process');
  host.send({ id: 's2', type: 'createTransport', direction: 'send' });
  t.match(await host.next('transportCreated'), { id: 's2' }, 'a send transport again (the old one is not counted)');
  reader.send({ id: 'p', type: 'ping' });
  t.match(await reader.next('pong'), { id: 'p' }, 'a socket without media is untouched');
  t.same(reader.pending().filter((m) => m.type === 'mediaReset'), [], 'and gets no mediaReset');

  second.child.kill('SIGKILL');
  await second.exited;
  t.match(await host.next('mediaReset'), { reason: 'media_server_lost' }, 'an SFU that stays down: mediaReset after its announcements stop');
  host.send({ id: 'j3', type: 'join' });
  t.match(await host.next('error'), { id: 'j3', code: 'unavailable', retryAfterMs: Number }, 'join while it is down: unavailable, with a retry hint');
  await Promise.all([host.close(), reader.close()]);
});

tap.test('SfuNodeWatch: a new instance is a restart, silence past 3 intervals a loss, a goaway neither', async (t) => {
  const { nc } = await privateNats(t);
  const watch = new SfuNodeWatch({ nc, checkIntervalMs: 50 });
  t.teardown(() => watch.close());
  await nc.flush();
  const lost: Array<[string, SfuNodeLossReason]> = [];
  watch.on('lost', (node, reason) => lost.push([node, reason]));
  const load = { workers: 1, sessions: 0, routers: 0, consumers: 0 };
  const announce = (node: string, instance: string, intervalMs: number) =>
    nc.publish(SFU_ANNOUNCE_SUBJECT, encode({ v: 1, type: 'announce', node, instance, at: Date.now(), intervalMs, load }));

  announce('a', 'one', 60_000);
  announce('a', 'one', 60_000);
  announce('b', 'x', 60_000);
  const restarted = once(watch, 'lost');
  announce('a', 'two', 60_000);
  t.same(await restarted, ['a', 'restarted'], 'node a under a new instance: restarted');

  announce('c', 'c1', 100);
  t.same(await once(watch, 'lost'), ['c', 'silent'], 'node c silent past 3 intervals of 100 ms: lost');

  nc.publish(SFU_ANNOUNCE_SUBJECT, encode({ v: 1, type: 'goaway', node: 'd', at: Date.now() }));
  announce('d', 'd1', 100);
  nc.publish(SFU_ANNOUNCE_SUBJECT, encode({ v: 1, type: 'goaway', node: 'd', at: Date.now() }));
  announce('e', 'e1', 100);
  t.same(await once(watch, 'lost'), ['e', 'silent'], 'e, announced after d, goes silent');
  t.same(lost, [['a', 'restarted'], ['c', 'silent'], ['e', 'silent']], 'd said goaway: never reported; b and the old instance of a: never');
});

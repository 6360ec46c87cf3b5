import t from 'tap';
import { makeSpeechWav } from '../../test/support/speechWav.js';
import { onceEvent } from '../../core/src/events.js';
import { SfuClient } from '../../core/src/sfu/SfuClient.js';
import { SfuNode } from '../src/SfuNode.js';
import { LISTEN, type Teardown, connectNats, countRtp, feedOpus, startPool, uniqueId, watchSession, within } from './_harness.js';

const SPEECH = 'A worker may die at any time; the pool replaces it and the session goes on.';

async function startNode(t: Teardown, maxConsumersPerRouter: number) {
  const nc = await connectNats(t);
  const pool = await startPool(t, 2);
  const sfu = await SfuNode.start({ nc, node: uniqueId('sfu'), pool, listen: LISTEN, maxConsumersPerRouter });
  t.teardown(() => sfu.close());
  return { nc, pool, sfu, client: new SfuClient({ nc }), node: sfu.node };
}

t.test('the worker holding a session dies: it is replaced, the session is told, and the node keeps serving', async (t) => {
  const { nc, pool, sfu, client, node } = await startNode(t, 500);
  const session = uniqueId('s');
  const watch = await watchSession(t, nc, session);
  const first = await client.request(node, 'createPlainPublisher', { session, peer: 'host' });
  const pid = sfu.sessionForTesting(session)?.routerOfTransportForTesting(first.transportId)?.workerPid;
  if (pid === undefined) throw new Error('no origin router');

  const died = onceEvent(pool, 'workerdied');
  const replaced = onceEvent(pool.observer, 'newworker');
  process.kill(pid, 'SIGKILL');
  const [death] = await died;
  t.equal(death.pid, pid, "the pool reports the killed worker's death");
  const [replacement] = await replaced;
  t.not(replacement.pid, pid, `a new worker (pid ${replacement.pid}) replaces it`);
  t.equal(pool.size, 2, 'the pool is back to two workers');

  t.match(await watch.next((e) => e.type === 'producerClosed'), { producerId: first.producerId, reason: 'worker_died' }, 'producerClosed (worker_died)');
  t.match(await watch.next((e) => e.type === 'sessionClosed'), { reason: 'worker_died', node }, 'sessionClosed (worker_died)');
  t.same(await client.request(node, 'listProducers', { session }), { producers: [] }, 'the dead media is forgotten');

  // The same session id starts over on a live worker, and media flows.
  const again = await client.request(node, 'createPlainPublisher', { session, peer: 'host' });
  const media = sfu.sessionForTesting(session);
  if (!media) throw new Error('session not recreated');
  const tap = await media.createDirectTransport('tap');
  const rtp = countRtp(await media.consume('tap', tap, again.producerId));
  feedOpus(t, { wav: await makeSpeechWav(t, SPEECH, { sampleRate: 48_000 }), ip: again.ip, port: again.port, ssrc: again.ssrc, payloadType: again.payloadType });
  await within(20_000, rtp.reached(25), () => `${rtp.count} packets`);
  t.ok(rtp.count >= 25, `after the death, a new producer's RTP reaches a consumer (${rtp.count} packets)`);
});

t.test("a viewer router's worker dies: its peers are told, the producers and other viewers stay", async (t) => {
  const { nc, pool, sfu, client, node } = await startNode(t, 1);
  const session = uniqueId('s');
  const watch = await watchSession(t, nc, session);
  const pub = await client.request(node, 'createPlainPublisher', { session, peer: 'host' });
  const { rtpCapabilities } = await client.request(node, 'getRouterRtpCapabilities', { session });
  const media = sfu.sessionForTesting(session);
  if (!media) throw new Error('no session');

  // Threshold 1: the first viewer fills the origin router, the second gets a router on the other worker.
  const near = await media.createDirectTransport('near');
  const nearRtp = countRtp(await media.consume('near', near, pub.producerId));
  const far = await client.request(node, 'createWebRtcTransport', { session, peer: 'far', direction: 'recv' });
  await client.request(node, 'consume', { session, peer: 'far', transportId: far.id, producerId: pub.producerId, rtpCapabilities });
  const farPlace = media.routerOfTransportForTesting(far.id);
  t.equal(farPlace?.origin, false, 'the second viewer is on a piped router');
  if (farPlace === undefined) throw new Error('no far router');

  const replaced = onceEvent(pool.observer, 'newworker');
  process.kill(farPlace.workerPid, 'SIGKILL');
  t.match(await watch.next((e) => e.type === 'peersDisconnected'), { peers: ['far'], reason: 'worker_died' }, 'peersDisconnected names the far viewer');
  await replaced;
  t.same(
    (await client.request(node, 'listProducers', { session })).producers.map((p) => p.producerId),
    [pub.producerId],
    'the producer is still there',
  );
  t.notOk(watch.events.some((e) => e.type === 'sessionClosed'), 'the session was not closed');

  // The far viewer rejoins: a fresh router on a live worker, piped again; media flows to both.
  const back = await media.createDirectTransport('far');
  const backRtp = countRtp(await media.consume('far', back, pub.producerId));
  t.equal(media.routerOfTransportForTesting(back)?.origin, false, 'the rejoining viewer is piped again');
  feedOpus(t, { wav: await makeSpeechWav(t, SPEECH, { sampleRate: 48_000 }), ip: pub.ip, port: pub.port, ssrc: pub.ssrc, payloadType: pub.payloadType });
  await within(20_000, Promise.all([nearRtp.reached(25), backRtp.reached(25)]), () => `near ${nearRtp.count}, far ${backRtp.count}`);
  t.pass(`RTP after the death: near ${nearRtp.count}, far (re-piped) ${backRtp.count} packets`);
});

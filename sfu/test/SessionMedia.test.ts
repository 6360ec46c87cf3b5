import { once } from 'node:events';
import type { types } from 'mediasoup';
import t from 'tap';
import { makeSpeechWav } from '../../test/support/speechWav.js';
import { onceEvent } from '../../core/src/events.js';
import { SessionMedia } from '../src/SessionMedia.js';
import { LISTEN, countRtp, feedOpus, startPool, uniqueId, within } from './_harness.js';

const SPEECH = 'One router per worker carries five hundred listeners; the rest are piped to the next worker.';

t.test('past the consumer threshold a viewer gets a router on another worker, fed by pipeToRouter', async (t) => {
  const pool = await startPool(t, 2);
  const media = await SessionMedia.create({ session: uniqueId('pipe'), pool, listen: LISTEN, maxConsumersPerRouter: 2 });
  t.teardown(() => media.close());

  const pub = await media.createPlainPublisher('host');
  const wav = await makeSpeechWav(t, SPEECH, { sampleRate: 48_000 });

  const viewers: { peer: string; consumer: types.Consumer; rtp: ReturnType<typeof countRtp>; where: ReturnType<SessionMedia['routerOfTransportForTesting']> }[] = [];
  for (const peer of ['v1', 'v2', 'v3']) {
    const transportId = await media.createDirectTransport(peer);
    const consumer = await media.consume(peer, transportId, pub.producerId);
    viewers.push({ peer, consumer, rtp: countRtp(consumer), where: media.routerOfTransportForTesting(transportId) });
  }
  const [v1, v2, v3] = viewers;
  t.ok(v1?.where?.origin && v2?.where?.origin, 'the first two viewers are on the origin router');
  t.notOk(v3?.where?.origin, 'the third viewer is on another router');
  t.not(v3?.where?.workerPid, v1?.where?.workerPid, 'on another worker');
  t.equal(media.stats.routers, 2, 'two routers');
  t.same(
    pool.loads().map((l) => l.consumers).sort(),
    [1, 3],
    'origin worker: 2 viewers + 1 pipe consumer; other worker: 1 viewer',
  );

  feedOpus(t, { wav, ip: pub.ip, port: pub.port, ssrc: pub.ssrc, payloadType: pub.payloadType });
  const want = 50; // one second of 20 ms packets
  await within(20_000, Promise.all(viewers.map((v) => v.rtp.reached(want))), () => viewers.map((v) => `${v.peer}: ${v.rtp.count}`).join(', '));
  t.ok(v3!.rtp.count >= want, `the piped viewer received ${v3!.rtp.count} RTP packets`);
  t.comment(`RTP packets: ${viewers.map((v) => `${v.peer}=${v.rtp.count}`).join(' ')}`);

  const routerClosed = once(v3!.consumer.observer, 'close');
  media.closePeer('v3');
  await routerClosed;
  t.equal(media.stats.routers, 1, 'the empty viewer router is closed with its last viewer');
});

t.test('closePeer closes a producer (producerclosed, peer_closed); close() is idempotent and cascades', async (t) => {
  const pool = await startPool(t, 1);
  const media = await SessionMedia.create({ session: uniqueId('close'), pool, listen: LISTEN, maxConsumersPerRouter: 500 });
  const added = onceEvent(media, 'produceradded');
  const pub = await media.createPlainPublisher('host');
  const [info] = await added;
  t.same(info, { producerId: pub.producerId, peer: 'host', kind: 'audio' }, 'produceradded');
  t.same(media.listProducers(), [info], 'listProducers');

  const closed = onceEvent(media, 'producerclosed');
  media.closePeer('host');
  const [closedInfo, reason] = await closed;
  t.equal(closedInfo.producerId, pub.producerId, 'producerclosed for that producer');
  t.equal(reason, 'peer_closed', 'reason peer_closed');
  t.same(media.listProducers(), [], 'no producers left');
  t.doesNotThrow(() => media.closePeer('host'), 'closePeer again is a no-op');

  const viewer = await media.createDirectTransport('viewer');
  const sessionClosed = onceEvent(media, '@close');
  media.close();
  t.same(await sessionClosed, ['closed'], "'@close' with reason closed");
  t.doesNotThrow(() => media.close(), 'close() again is a no-op');
  await t.rejects(media.consume('viewer', viewer, pub.producerId), { name: 'InvalidStateError' }, 'calls on a closed session reject');
});

t.test('ids of other peers are not found; wrong directions are invalid', async (t) => {
  const pool = await startPool(t, 1);
  const media = await SessionMedia.create({ session: uniqueId('own'), pool, listen: LISTEN, maxConsumersPerRouter: 500 });
  t.teardown(() => media.close());
  const pub = await media.createPlainPublisher('host');
  const recv = await media.createDirectTransport('alice');
  await t.rejects(media.consume('bob', recv, pub.producerId), { name: 'NotFoundError' }, "bob cannot use alice's transport");
  await t.rejects(media.consume('host', pub.transportId, pub.producerId), { name: 'InvalidArgumentError' }, 'consume on a send transport');
  await t.rejects(media.produce('alice', recv, { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }] }), { name: 'InvalidArgumentError' }, 'produce on a recv transport');
  const consumer = await media.consume('alice', recv, pub.producerId);
  await t.rejects(media.resumeConsumer('bob', consumer.id), { name: 'NotFoundError' }, "bob cannot resume alice's consumer");
});

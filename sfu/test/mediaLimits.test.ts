import t from 'tap';
import { QuotaExceededError } from '../../core/src/errors.js';
import { SfuClient } from '../../core/src/sfu/SfuClient.js';
import { NODE_FULL_RETRY_AFTER_MS, type MediaLimits } from '../src/MediaQuota.js';
import { SfuMetrics } from '../src/SfuMetrics.js';
import { SfuNode } from '../src/SfuNode.js';
import { LISTEN, type Teardown, connectNats, startPool, uniqueId } from './_harness.js';

const FAKE_DTLS = {
  role: 'client' as const,
  fingerprints: [{ algorithm: 'sha-256' as const, value: Array.from({ length: 32 }, () => 'AB').join(':') }],
};

async function startNode(t: Teardown, limits: MediaLimits) {
  const nc = await connectNats(t);
  const pool = await startPool(t, 1);
  const sfu = await SfuNode.start({ nc, node: uniqueId('sfu'), pool, listen: LISTEN, maxConsumersPerRouter: 500, limits });
  t.teardown(() => sfu.close());
  const metrics = new SfuMetrics({ node: sfu, pool, processMetrics: false });
  return { sfu, metrics, client: new SfuClient({ nc, timeoutMs: 5_000 }), node: sfu.node };
}

async function metricValue(metrics: SfuMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value;
}

const ROOMY = { sendTransportsPerPeer: 1, recvTransportsPerPeer: 2, consumersPerPeer: 2, transportsPerSession: 1_000, transportsPerNode: 1_000 };

t.test('per peer: a viewer creating receive transports in a loop is refused at the bound; others are not disturbed', async (t) => {
  const { sfu, metrics, client, node } = await startNode(t, ROOMY);
  const session = uniqueId('greedy');
  const { rtpCapabilities } = await client.request(node, 'getRouterRtpCapabilities', { session });
  const pub = await client.request(node, 'createPlainPublisher', { session, peer: 'host' });

  const created: string[] = [];
  let refusal: unknown;
  for (let i = 0; i < 10 && refusal === undefined; i += 1) {
    try {
      created.push((await client.request(node, 'createWebRtcTransport', { session, peer: 'greedy', direction: 'recv' })).id);
    } catch (err) {
      refusal = err;
    }
  }
  t.equal(created.length, 2, 'two receive transports, then refused');
  t.ok(refusal instanceof QuotaExceededError, 'the refusal is quota_exceeded');
  t.match(refusal, { code: 'quota_exceeded', message: /at most 2 receive transport/ }, 'it says which bound');

  const [first] = created;
  if (!first) throw new Error('no transport');
  t.same(await client.request(node, 'connectTransport', { session, peer: 'greedy', transportId: first, dtlsParameters: FAKE_DTLS }), {}, 'a transport opened before the refusal still works');
  const other = await client.request(node, 'createWebRtcTransport', { session, peer: 'honest', direction: 'recv' });
  t.ok(other.id, 'another viewer still gets a transport');

  const consumed = [];
  for (let i = 0; i < 2; i += 1) consumed.push(await client.request(node, 'consume', { session, peer: 'greedy', transportId: first, producerId: pub.producerId, rtpCapabilities }));
  await t.rejects(
    client.request(node, 'consume', { session, peer: 'greedy', transportId: first, producerId: pub.producerId, rtpCapabilities }),
    { code: 'quota_exceeded', message: /at most 2 consumers/ },
    'the third consumer of one peer is refused',
  );
  t.same(await client.request(node, 'resumeConsumer', { session, peer: 'greedy', consumerId: consumed[0]?.consumerId ?? '' }), {}, 'its consumers keep working');
  t.ok(await client.request(node, 'consume', { session, peer: 'honest', transportId: other.id, producerId: pub.producerId, rtpCapabilities }), 'another viewer still consumes');

  await client.request(node, 'createWebRtcTransport', { session, peer: 'speaker', direction: 'send' });
  await t.rejects(
    client.request(node, 'createWebRtcTransport', { session, peer: 'speaker', direction: 'send' }),
    { code: 'quota_exceeded', message: /at most 1 send transport/ },
    'a second send transport of one peer is refused',
  );

  const media = sfu.sessionForTesting(session);
  t.same(media?.stats.transports, 5, 'refused requests created nothing (host, 2 greedy, honest, speaker)');
  t.equal(await metricValue(metrics, 'pc_sfu_media_limit_refusals_total', { limit: 'recv_transports_per_peer' }), 1, 'refusal counted by bound');
  t.equal(await metricValue(metrics, 'pc_sfu_media_limit_refusals_total', { limit: 'consumers_per_peer' }), 1, 'consumer refusal counted');
  t.equal(await metricValue(metrics, 'pc_sfu_transports'), 5, 'open transports in metrics');
  t.equal(await metricValue(metrics, 'pc_sfu_media_limit', { limit: 'recv_transports_per_peer' }), 2, 'the configured bound in metrics');

  await client.request(node, 'closePeer', { session, peer: 'greedy' });
  t.ok(await client.request(node, 'createWebRtcTransport', { session, peer: 'greedy', direction: 'recv' }), 'after closing its transports the peer gets one again');
  t.equal(sfu.quota.transports, 4, 'closed transports gave their slots back');
});

t.test('per peer: concurrent requests cannot overshoot the bound', async (t) => {
  const { client, node } = await startNode(t, ROOMY);
  const session = uniqueId('burst');
  await client.request(node, 'getRouterRtpCapabilities', { session });
  const results = await Promise.allSettled(Array.from({ length: 12 }, () => client.request(node, 'createWebRtcTransport', { session, peer: 'burst', direction: 'recv' })));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const refused = results.filter((r) => r.status === 'rejected' && r.reason instanceof QuotaExceededError).length;
  t.equal(ok, 2, '2 of 12 concurrent requests succeed');
  t.equal(refused, 10, 'the other 10 are quota_exceeded');
});

t.test('per session and per node: refused with a retry hint, and the slots come back when media closes', async (t) => {
  const { sfu, metrics, client, node } = await startNode(t, { ...ROOMY, transportsPerSession: 3, transportsPerNode: 4 });
  const a = uniqueId('a');
  const b = uniqueId('b');
  for (const peer of ['v1', 'v2', 'v3']) await client.request(node, 'createWebRtcTransport', { session: a, peer, direction: 'recv' });
  const sessionFull = await client.request(node, 'createWebRtcTransport', { session: a, peer: 'v4', direction: 'recv' }).catch((err: unknown) => err);
  t.ok(sessionFull instanceof QuotaExceededError, 'the 4th transport of the session is refused');
  t.match(sessionFull, { message: /session has its maximum of 3 transports/, retryAfterMs: NODE_FULL_RETRY_AFTER_MS }, 'with the retry hint, across NATS');

  await client.request(node, 'createWebRtcTransport', { session: b, peer: 'w1', direction: 'recv' });
  const nodeFull = await client.request(node, 'createWebRtcTransport', { session: b, peer: 'w2', direction: 'recv' }).catch((err: unknown) => err);
  t.ok(nodeFull instanceof QuotaExceededError, 'past the node bound another session is refused too');
  t.match(nodeFull, { message: /no transport left/, retryAfterMs: NODE_FULL_RETRY_AFTER_MS }, 'node full, with the retry hint');
  t.equal(await metricValue(metrics, 'pc_sfu_media_limit_refusals_total', { limit: 'transports_per_node' }), 1, 'node refusal counted');

  await client.request(node, 'closeSession', { session: a });
  t.equal(sfu.quota.transports, 1, 'a closed session gives its transports back');
  t.ok(await client.request(node, 'createWebRtcTransport', { session: b, peer: 'w2', direction: 'recv' }), 'and the node takes new ones');
});

t.test('server-side media (audio taps) is not counted against client bounds', async (t) => {
  const { sfu, client, node } = await startNode(t, { ...ROOMY, consumersPerPeer: 1, transportsPerNode: 1 });
  const session = uniqueId('tap');
  const pub = await client.request(node, 'createPlainPublisher', { session, peer: 'host' });
  const media = sfu.sessionForTesting(session);
  if (!media) throw new Error('no session');
  for (const peer of ['tap-1', 'tap-2']) {
    const transportId = await media.createDirectTransport(peer);
    await media.consume(peer, transportId, pub.producerId);
    await media.consume(peer, transportId, pub.producerId);
  }
  t.equal(media.stats.consumers, 4, 'direct transports and their consumers are created past the client bounds');
  t.equal(sfu.quota.transports, 1, 'only the plain publisher holds a port slot');
});

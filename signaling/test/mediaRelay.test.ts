/**
 * MediaRelay on its own, against the real SFU process: what a socket's media requests become, and
 * the state the relay keeps (in media, transports held) for resets and release.
 */
import { randomUUID } from 'node:crypto';
import tap from 'tap';
import { ForbiddenError, InvalidStateError } from '../../core/src/errors.js';
import type { RpcMethod, RpcParams, RpcResult } from '../../core/src/sfu/rpcProtocol.js';
import { SfuClient } from '../../core/src/sfu/SfuClient.js';
import { MediaRelay } from '../src/MediaRelay.js';
import { privateNats, startSfu } from './fixtures/media.js';

tap.test('MediaRelay: join, transports, reset and release on a real SFU', async (t) => {
  const { url, nc } = await privateNats(t);
  await startSfu(t, url);
  const client = new SfuClient({ nc });
  t.teardown(() => client.close());
  const session = randomUUID();
  const calls: string[] = [];
  const sfu = async <M extends RpcMethod>(method: M, params: RpcParams<M>): Promise<RpcResult<M>> => {
    calls.push(method);
    const { node } = await client.place(session);
    return client.request(node, method, params);
  };
  const viewer = new MediaRelay({ peer: randomUUID(), session, canProduce: false, sfu });
  const host = new MediaRelay({ peer: randomUUID(), session, canProduce: true, sfu });

  await t.rejects(viewer.handle({ type: 'createTransport', direction: 'recv' }), InvalidStateError, 'media before join');
  await t.rejects(viewer.handle({ type: 'createTransport', direction: 'send' }), ForbiddenError, 'a viewer never gets a send transport');
  t.notOk(viewer.mediaReset(), 'a reset before join: nothing to tell the client');
  await viewer.release();
  t.same(calls, [], 'refusals and a release without transports cost no SFU call');

  const joined = await viewer.join();
  t.ok(viewer.inMedia);
  t.ok(joined.routerRtpCapabilities.codecs?.some((c) => c.mimeType.toLowerCase() === 'audio/opus'), 'the router speaks Opus');
  t.same(joined.producers, []);
  t.match(await viewer.handle({ type: 'createTransport', direction: 'recv' }), { type: 'transportCreated', iceCandidates: [{ ip: '127.0.0.1' }] });

  await host.join();
  t.match(await host.handle({ type: 'createTransport', direction: 'send' }), { type: 'transportCreated' }, 'a host may publish');
  t.ok(host.mediaReset(), 'a reset in media: the client must join again');
  t.notOk(host.inMedia);
  await t.rejects(host.handle({ type: 'createTransport', direction: 'send' }), InvalidStateError, 'after a reset, media needs a join again');

  calls.length = 0;
  await viewer.release();
  await viewer.release();
  t.same(calls, ['closePeer'], 'release closes the peer on the SFU, once');
  t.same(await viewer.handle({ type: 'leaveMedia' }), { type: 'mediaLeft' });
  t.same(calls, ['closePeer'], 'leaving with no transports held costs no call');
  t.notOk(viewer.inMedia);
});

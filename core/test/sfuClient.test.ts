import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import t from 'tap';
import {
  CancelledError,
  ForbiddenError,
  InternalError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  POLYGLOT_ERROR_CODES,
  PolyglotError,
  QuotaExceededError,
  TimeoutError,
  UnauthenticatedError,
  UnavailableError,
} from '../src/errors.js';
import { SfuClient } from '../src/sfu/SfuClient.js';
import { decodeRpcReply, encode, errorToWire } from '../src/sfu/rpcProtocol.js';
import { sfuRpcSubject } from '../src/subjects.js';
import { useInfra } from './support/infra.js';

t.test('an error reply comes back as the class it left as, with its retryable', async (t) => {
  const classes: PolyglotError[] = [
    new InvalidArgumentError('bad rtp'),
    new NotFoundError('no session'),
    new InvalidStateError('connected twice'),
    new UnauthenticatedError('who'),
    new ForbiddenError('not yours'),
    new QuotaExceededError('too many'),
    new UnavailableError('draining'),
    new TimeoutError('slow'),
    new CancelledError('gone'),
    new InternalError('bug'),
  ];
  t.same(classes.map((e) => e.code).sort(), [...POLYGLOT_ERROR_CODES].sort(), 'every code is covered');
  for (const sent of classes) {
    const reply = encode({ ok: false, error: errorToWire(sent) });
    const err: unknown = (() => {
      try {
        decodeRpcReply('closePeer', reply);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    t.ok(err instanceof sent.constructor, `${sent.name} comes back as ${sent.name}`);
    t.match(err, { message: sent.message, code: sent.code, retryable: sent.retryable });
  }
});

t.test('a quota_exceeded reply keeps its retry hint', async (t) => {
  const reply = encode({ ok: false, error: errorToWire(new QuotaExceededError('node full', 5_000)) });
  t.throws(() => decodeRpcReply('closePeer', reply), { code: 'quota_exceeded', retryAfterMs: 5_000, message: 'node full' });
  const bare = encode({ ok: false, error: errorToWire(new QuotaExceededError('peer bound')) });
  const err = (() => {
    try {
      decodeRpcReply('closePeer', bare);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.ok(err instanceof QuotaExceededError && err.retryAfterMs === undefined, 'none when the error had none');
});

t.test('errors that are not ours leave as internal, without their message', async (t) => {
  t.same(errorToWire(new TypeError('secret stack detail')), { code: 'internal', message: 'internal error' });
  t.throws(() => decodeRpcReply('closePeer', encode({ ok: false, error: { code: 'teapot', message: 'x' } })), InternalError, 'an unknown code is a malformed reply');
  t.same(decodeRpcReply('closePeer', encode({ ok: true, result: {} })), {});
});

t.test('SfuClient: UnavailableError when no SFU listens, TimeoutError when one never answers', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  const client = new SfuClient({ nc, timeoutMs: 200 });
  const node = `silent-${randomUUID()}`;
  await t.rejects(client.request(node, 'listProducers', { session: 's-1' }), UnavailableError, 'no responders');

  const received = new Promise<void>((resolve) => nc.subscribe(sfuRpcSubject(node), { callback: () => resolve() }));
  await nc.flush();
  const request = client.request(node, 'listProducers', { session: 's-1' });
  await received;
  await t.rejects(request, TimeoutError, 'a node that takes the request and never replies');

  client.close();
  await t.rejects(client.place('s-1'), InvalidStateError, 'closed');
});

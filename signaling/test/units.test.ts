import tap from 'tap';
import { InvalidArgumentError as CoreInvalidArgumentError, TimeoutError, UnavailableError as CoreUnavailableError } from '../../core/src/errors.js';
import { reconnectDelayMs } from '../src/reconnectDelay.js';
import { CloseCode, httpFailureFor, socketFailureFor } from '../src/closeCodes.js';
import { ForbiddenError, NotFoundError, QuotaExceededError } from '../../core/src/errors.js';
import { BadRequestError, FloodError, OtherOrganizationError, SessionEndedError, TokenRefusedError, TryAgainLaterError } from '../src/errors.js';
import { userIdFor, uuidV5 } from '../src/identity.js';
import { decodeClientMessage } from '../src/protocol.js';
import { TokenBucket } from '../src/TokenBucket.js';

tap.test('TokenBucket spends, refuses, and refills from the clock', async (t) => {
  let now = 0;
  const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 2, now: () => now });
  t.same([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  t.equal(bucket.msUntil(1), 500);
  now = 499;
  t.notOk(bucket.take());
  now = 500;
  t.ok(bucket.take(), 'one token after 500 ms at 2/s');
  now = 60_000;
  t.ok(bucket.take(3), 'refills up to capacity');
  t.notOk(bucket.take(1));
  t.throws(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 }), TypeError);
});

tap.test('backoff: full jitter under an exponential ceiling', async (t) => {
  const opts = { baseMs: 500, maxMs: 30_000 };
  const table: Array<[number, number, number]> = [
    // attempt, random, expected
    [0, 0, 0],
    [0, 0.999, 499],
    [1, 0.5, 500],
    [3, 0.5, 2_000],
    [6, 0.5, 15_000],
    [7, 0.5, 15_000], // 64 s capped at 30 s
    [40, 0.999, 29_970],
    [-1, 0.5, 250],
  ];
  for (const [attempt, r, expected] of table) t.equal(reconnectDelayMs(attempt, opts, () => r), expected, `attempt ${attempt}, random ${r}`);
});

tap.test('uuidV5 matches RFC 9562 and is stable per (org, sub)', async (t) => {
  t.equal(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  const org = '0d9c1f6e-3a8b-4c2d-9e7f-1a2b3c4d5e6f';
  t.equal(userIdFor(org, 'auth0|42'), userIdFor(org.toUpperCase(), 'auth0|42'));
  t.not(userIdFor(org, 'auth0|42'), userIdFor('1d9c1f6e-3a8b-4c2d-9e7f-1a2b3c4d5e6f', 'auth0|42'), 'the same sub in two organizations is two users');
});

tap.test('decodeClientMessage: one decoder per type, codes for every refusal', async (t) => {
  t.match(decodeClientMessage('{"type":"ping","id":3}'), { ok: true, message: { type: 'ping', id: 3 } });
  const cases: Array<[string, string, unknown]> = [
    ['{', 'bad_json', undefined],
    ['"ping"', 'invalid_message', undefined],
    ['{"id":"x"}', 'invalid_message', 'x'],
    ['{"type":"hack","id":"h"}', 'unknown_type', 'h'],
    ['{"type":"__proto__"}', 'unknown_type', undefined],
    ['{"type":"consume","id":1,"transportId":"nope"}', 'invalid_message', 1],
    ['{"type":"auth","token":""}', 'invalid_message', undefined],
  ];
  for (const [text, reason, id] of cases) {
    const decoded = decodeClientMessage(text);
    t.notOk(decoded.ok, text);
    if (!decoded.ok) {
      t.equal(decoded.error.reason, reason, text);
      t.equal(decoded.requestId, id, `${text}: request id salvaged`);
    }
  }
});

tap.test('closeCodes: one table from error classes to the wire', async (t) => {
  const open: Array<[Error, object]> = [
    [new TokenRefusedError('x', 'expired'), { kind: 'close', code: CloseCode.Unauthenticated }],
    [new SessionEndedError('x'), { kind: 'close', code: CloseCode.SessionEnded }],
    [new FloodError('x'), { kind: 'close', code: CloseCode.TooManyMessages }],
    [new ForbiddenError('x'), { kind: 'frame', code: 'forbidden' }],
    [new BadRequestError('x', 'message_too_large'), { kind: 'frame', code: 'message_too_large' }],
    [new QuotaExceededError('x', 250), { kind: 'frame', code: 'rate_limited', retryAfterMs: 250 }],
    [new CoreInvalidArgumentError('bad rtp'), { kind: 'frame', code: 'invalid_message' }],
    [new TimeoutError('slow'), { kind: 'frame', code: 'unavailable', retryAfterMs: 1000 }],
    [new TypeError('bug'), { kind: 'frame', code: 'internal', message: 'internal error' }],
  ];
  for (const [err, expected] of open) t.match(socketFailureFor(err, 'open'), expected, `open: ${err.constructor.name}`);
  const auth: Array<[Error, number]> = [
    [new OtherOrganizationError('x'), 4404],
    [new NotFoundError('x'), 4404],
    [new BadRequestError('x', 'bad_json'), 4401],
    [new TryAgainLaterError('jwks down', 2000), 1013],
    [new CoreUnavailableError('x'), 1013],
    [new TypeError('bug'), 1011],
  ];
  for (const [err, code] of auth) t.match(socketFailureFor(err, 'auth'), { kind: 'close', code }, `auth: ${err.constructor.name}`);
  t.match(socketFailureFor(new TokenRefusedError('x'.repeat(300), 'claims'), 'auth'), { reason: /^x{100,}\.\.\.$/ }, 'long reasons fit in a close frame');
  t.match(httpFailureFor(new OtherOrganizationError('secret detail')), { status: 404, code: 'not_found', message: 'no such session' });
  t.match(httpFailureFor(new TryAgainLaterError('x', 1500)), { status: 503, headers: { 'retry-after': '2' } });
  t.match(httpFailureFor(new TypeError('stack')), { status: 500, message: 'internal error' });
  t.same(socketFailureFor(new OtherOrganizationError('secret detail'), 'auth'), socketFailureFor(new NotFoundError('no such session'), 'auth'), 'a foreign session closes exactly as a missing one');
  t.match(socketFailureFor(new OtherOrganizationError('x'), 'open'), { kind: 'close', code: 4404, reason: 'no such session' });
});

tap.test('closeCodes: a dependency failure never shows its subject or node to the client', async (t) => {
  const leaky = [
    new CoreUnavailableError('join: no SFU listens on pc.v1.sfu.sfu-host-1.rpc'),
    new TimeoutError('place: no reply on pc.v1.sfu.place within 2000 ms'),
  ];
  for (const err of leaky) {
    for (const failure of [socketFailureFor(err, 'open'), socketFailureFor(err, 'auth')]) {
      const text = failure.kind === 'close' ? failure.reason : failure.message;
      t.notMatch(text, /pc\.v1|sfu-host|ms/, err.message);
      t.equal(failure.detailHidden, true);
    }
    const http = httpFailureFor(err);
    t.match(http, { status: 503, detailHidden: true });
    t.notMatch(http.message, /pc\.v1|sfu-host/);
  }
  t.match(socketFailureFor(new TryAgainLaterError('identity provider keys unreachable', 2000), 'open'), { message: 'identity provider keys unreachable', detailHidden: false });
});

import * as grpc from '@grpc/grpc-js';
import t from 'tap';

import { ForbiddenError, InvalidStateError, UnauthenticatedError } from '../../../core/src/errors.js';
import {
  CancelledError,
  fromServiceError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PolyglotError,
  QuotaExceededError,
  TimeoutError,
  toServiceError,
  UnavailableError,
} from '../src/index.js';

type ErrorClass = new (message: string) => PolyglotError;

t.test('each error class travels as one status, and comes back as the class it left as', async (t) => {
  const table: [ErrorClass, grpc.status, ErrorClass][] = [
    [InvalidArgumentError, grpc.status.INVALID_ARGUMENT, InvalidArgumentError],
    [NotFoundError, grpc.status.NOT_FOUND, NotFoundError],
    [QuotaExceededError, grpc.status.RESOURCE_EXHAUSTED, QuotaExceededError],
    [UnavailableError, grpc.status.UNAVAILABLE, UnavailableError],
    [TimeoutError, grpc.status.DEADLINE_EXCEEDED, TimeoutError],
    [CancelledError, grpc.status.CANCELLED, CancelledError],
    [InternalError, grpc.status.INTERNAL, InternalError],
    // Classes no engine throws today: a status each, read back as the client always read them.
    [InvalidStateError, grpc.status.FAILED_PRECONDITION, InvalidArgumentError],
    [UnauthenticatedError, grpc.status.UNAUTHENTICATED, InternalError],
    [ForbiddenError, grpc.status.PERMISSION_DENIED, InternalError],
  ];
  for (const [Sent, status, Received] of table) {
    const wire = toServiceError(new Sent('boom'));
    t.equal(wire.code, status, `${Sent.name} -> ${grpc.status[status]}`);
    t.equal(wire.details, 'boom');
    const back = fromServiceError(wire, 'calling x');
    t.ok(back instanceof Received, `${grpc.status[status]} -> ${Received.name}`);
    t.match(back.message, /^calling x: boom/);
  }
});

t.test('anything that is not a PolyglotError is INTERNAL; a quota keeps its retry-after', async (t) => {
  t.equal(toServiceError(new Error('bug')).code, grpc.status.INTERNAL);
  t.equal(toServiceError('a string').details, 'a string');
  const quota = fromServiceError(toServiceError(new QuotaExceededError('slow down', 1_500)));
  t.ok(quota instanceof QuotaExceededError && quota.retryAfterMs === 1_500 && quota.retryable);
  const errorItself = new UnavailableError('already a class');
  t.equal(fromServiceError(errorItself), errorItself, 'a PolyglotError passes through');
});

// The one place where the platform's error classes (core/src/errors.ts) meet gRPC statuses, both
// ways: a worker turns what its engine threw into a status, and a client turns a status back into a
// class it can branch on.
import * as grpc from '@grpc/grpc-js';

import {
  CancelledError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PolyglotError,
  QuotaExceededError,
  TimeoutError,
  UnavailableError,
  type ErrorCode,
} from '../../../core/src/errors.js';

/**
 * The status each class travels as. Keyed by `code` rather than by class so that the table is
 * checked for completeness and survives duplicate copies of core, where instanceof fails.
 */
const STATUS_OF: Record<ErrorCode, grpc.status> = {
  invalid_argument: grpc.status.INVALID_ARGUMENT,
  not_found: grpc.status.NOT_FOUND,
  invalid_state: grpc.status.FAILED_PRECONDITION,
  unauthenticated: grpc.status.UNAUTHENTICATED,
  forbidden: grpc.status.PERMISSION_DENIED,
  quota_exceeded: grpc.status.RESOURCE_EXHAUSTED,
  unavailable: grpc.status.UNAVAILABLE,
  timeout: grpc.status.DEADLINE_EXCEEDED,
  cancelled: grpc.status.CANCELLED,
  internal: grpc.status.INTERNAL,
};

/** Trailer a worker sets on RESOURCE_EXHAUSTED when it knows how long to back off. */
const RETRY_AFTER_MS_KEY = 'pc-retry-after-ms';

/** A gRPC status as grpc-js server handlers send it, with code and details always set. */
export type WorkerStatus = grpc.ServerErrorResponse & { code: grpc.status; details: string };

/** A status for grpc-js server handlers: call.emit('error', …) or callback(…). */
export function toServiceError(err: unknown): WorkerStatus {
  const error = PolyglotError.is(err) ? err : new InternalError(err instanceof Error ? err.message : String(err), err);
  const metadata = new grpc.Metadata();
  if (error instanceof QuotaExceededError && error.retryAfterMs !== undefined) {
    metadata.set(RETRY_AFTER_MS_KEY, String(error.retryAfterMs));
  }
  return Object.assign(new Error(error.message), { code: STATUS_OF[error.code], details: error.message, metadata });
}

/**
 * The error class for a status a client received, from one of our workers or from a
 * provider that speaks gRPC (Google Cloud): retryability is decided here, once. `context` (what was
 * being done) prefixes the message. Anything that is not a status is INTERNAL.
 */
export function fromServiceError(err: unknown, context?: string): PolyglotError {
  if (PolyglotError.is(err)) return err;
  const code = statusCodeOf(err);
  const details = context ? `${context}: ${detailsOf(err)}` : detailsOf(err);
  switch (code) {
    case grpc.status.INVALID_ARGUMENT:
    case grpc.status.OUT_OF_RANGE:
    case grpc.status.FAILED_PRECONDITION:
      return new InvalidArgumentError(details, err);
    case grpc.status.NOT_FOUND:
      return new NotFoundError(details, err);
    case grpc.status.RESOURCE_EXHAUSTED:
      return new QuotaExceededError(details, retryAfterMsOf(err), err);
    case grpc.status.UNAVAILABLE:
    case grpc.status.ABORTED: // a conflict the server asks to retry
      return new UnavailableError(details, err);
    case grpc.status.DEADLINE_EXCEEDED:
      return new TimeoutError(details, err);
    case grpc.status.CANCELLED:
      return new CancelledError(details, err);
    case grpc.status.PERMISSION_DENIED:
    case grpc.status.UNAUTHENTICATED:
      // A bad key or a disabled API: no retry fixes it.
      return new InternalError(`${details} (check the credentials)`, err);
    default:
      return new InternalError(details, err);
  }
}

/** The gRPC status code carried by `err`, or undefined when it is not a status. */
export function statusCodeOf(err: unknown): grpc.status | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code: unknown = Reflect.get(err, 'code');
  return typeof code === 'number' && code >= 0 && code <= 16 ? code : undefined;
}

function detailsOf(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const details: unknown = Reflect.get(err, 'details');
    if (typeof details === 'string' && details !== '') return details;
  }
  return err instanceof Error ? err.message : String(err);
}

function retryAfterMsOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const metadata: unknown = Reflect.get(err, 'metadata');
  if (!(metadata instanceof grpc.Metadata)) return undefined;
  const [value] = metadata.get(RETRY_AFTER_MS_KEY);
  const ms = typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

import { status } from '@grpc/grpc-js';
import {
  CancelledError,
  EngineTimeoutError,
  EngineUnavailableError,
  InternalEngineError,
  InvalidArgumentError,
  NotFoundError,
  QuotaExceededError,
  SidecarError,
  statusCodeOf,
} from '../../sdk/src/index.js';

/**
 * Google Cloud answers in gRPC statuses (GoogleError.code); this is the one place they become SDK
 * error classes, so
 * retryability is decided once (STYLE §4). PERMISSION_DENIED / UNAUTHENTICATED mean a bad key or a
 * disabled API: no retry fixes them, so they are non-retryable (the SDK has no auth class yet).
 */
export function fromGoogleError(err: unknown, what: string): SidecarError {
  if (SidecarError.is(err)) return err;
  const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  switch (statusCodeOf(err)) {
    case status.RESOURCE_EXHAUSTED:
      return new QuotaExceededError(message, undefined, err);
    case status.UNAVAILABLE:
    case status.ABORTED:
      return new EngineUnavailableError(message, err);
    case status.DEADLINE_EXCEEDED:
      return new EngineTimeoutError(message, err);
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
    case status.OUT_OF_RANGE:
      return new InvalidArgumentError(message, err);
    case status.NOT_FOUND:
      return new NotFoundError(message, err);
    case status.CANCELLED:
      return new CancelledError(message, err);
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return new InternalEngineError(`${message} (check the Google credentials)`, err);
    default:
      return new InternalEngineError(message, err);
  }
}

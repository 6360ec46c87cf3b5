import { status } from '@grpc/grpc-js';

const SIDECAR_ERROR = Symbol.for('polyglot.SidecarError');

/**
 * Base of every error a worker or engine raises. Retryability is decided once, here, and each
 * class maps to one gRPC status (grpcStatus.ts turns remote statuses back into these classes).
 */
export class SidecarError extends Error {
  readonly retryable: boolean;
  readonly grpcCode: status;
  readonly [SIDECAR_ERROR] = true;

  constructor(message: string, opts: { retryable: boolean; grpcCode: status; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.retryable = opts.retryable;
    this.grpcCode = opts.grpcCode;
  }

  /** Brand check that survives duplicate copies of this package, where instanceof fails. */
  static is(err: unknown): err is SidecarError {
    return typeof err === 'object' && err !== null && SIDECAR_ERROR in err;
  }
}

export class InvalidArgumentError extends SidecarError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: false, grpcCode: status.INVALID_ARGUMENT, cause });
  }
}

/** An unsupported language or pair, or an unknown glossary version. */
export class NotFoundError extends SidecarError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: false, grpcCode: status.NOT_FOUND, cause });
  }
}

/** Too many streams, or the provider's quota: retry later, ideally elsewhere. */
export class QuotaExceededError extends SidecarError {
  constructor(message: string, readonly retryAfterMs?: number, cause?: unknown) {
    super(message, { retryable: true, grpcCode: status.RESOURCE_EXHAUSTED, cause });
  }
}

export class EngineUnavailableError extends SidecarError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: true, grpcCode: status.UNAVAILABLE, cause });
  }
}

export class EngineTimeoutError extends SidecarError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: true, grpcCode: status.DEADLINE_EXCEEDED, cause });
  }
}

/** The caller went away (stream cancelled, worker shutting down). */
export class CancelledError extends SidecarError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: false, grpcCode: status.CANCELLED, cause });
  }
}

/** A bug or an engine answer we cannot use. */
export class InternalEngineError extends SidecarError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: false, grpcCode: status.INTERNAL, cause });
  }
}

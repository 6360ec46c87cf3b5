/**
 * The platform's error classes, shared by every process and by the browser bundle (no node-only
 * imports here). Retryability is decided once, in each class; `code` is how the error travels on
 * the wire (an SFU RPC error reply, a WebSocket error frame). Each boundary maps these classes to
 * its own transport in one file: gRPC statuses in sidecars/sdk, HTTP statuses and close codes in
 * signaling. Add a class only when some caller branches on it.
 */
const POLYGLOT_ERROR = Symbol.for('polyglot.Error');

/** Every `code`, for decoders of payloads that carry one (an SFU RPC error reply). */
export const POLYGLOT_ERROR_CODES = [
  'invalid_argument',
  'not_found',
  'invalid_state',
  'unauthenticated',
  'forbidden',
  'quota_exceeded',
  'unavailable',
  'timeout',
  'cancelled',
  'internal',
] as const;
export type ErrorCode = (typeof POLYGLOT_ERROR_CODES)[number];

export class PolyglotError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly [POLYGLOT_ERROR] = true;

  constructor(message: string, opts: { code: ErrorCode; retryable: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code;
    this.retryable = opts.retryable;
  }

  /** Brand check that survives duplicate copies of this module, where instanceof fails. */
  static is(err: unknown): err is PolyglotError {
    return typeof err === 'object' && err !== null && POLYGLOT_ERROR in err;
  }
}

/** A malformed request, or values the receiver rejects. */
export class InvalidArgumentError extends PolyglotError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'invalid_argument', retryable: false, cause });
  }
}

/** No such thing (session, transport, language, glossary version) here. */
export class NotFoundError extends PolyglotError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'not_found', retryable: false, cause });
  }
}

/** The object is closed, or the call does not fit its state. */
export class InvalidStateError extends PolyglotError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'invalid_state', retryable: false, cause });
  }
}

/** No valid credentials. */
export class UnauthenticatedError extends PolyglotError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'unauthenticated', retryable: false, cause });
  }
}

/** Valid credentials that may not do this. */
export class ForbiddenError extends PolyglotError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'forbidden', retryable: false, cause });
  }
}

/** A limit or quota was hit: retry later (after `retryAfterMs` when known), ideally elsewhere. */
export class QuotaExceededError extends PolyglotError {
  constructor(message: string, readonly retryAfterMs?: number, cause?: unknown) {
    super(message, { code: 'quota_exceeded', retryable: true, cause });
  }
}

/** The service is draining, down or unreachable: retry, ideally elsewhere. */
export class UnavailableError extends PolyglotError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'unavailable', retryable: true, cause });
  }
}

/** No answer within the caller's deadline. */
export class TimeoutError extends PolyglotError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'timeout', retryable: true, cause });
  }
}

/** The caller went away (a stream cancelled, a process shutting down). */
export class CancelledError extends PolyglotError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'cancelled', retryable: false, cause });
  }
}

/** Anything else; the message is safe to show, the cause stays in the log of the process that had it. */
export class InternalError extends PolyglotError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'internal', retryable: false, cause });
  }
}

/** The class of `code`, for an error that crossed the wire as a code, a message and maybe a retry hint. */
export function errorForCode(code: ErrorCode, message: string, retryAfterMs?: number): PolyglotError {
  switch (code) {
    case 'invalid_argument':
      return new InvalidArgumentError(message);
    case 'not_found':
      return new NotFoundError(message);
    case 'invalid_state':
      return new InvalidStateError(message);
    case 'unauthenticated':
      return new UnauthenticatedError(message);
    case 'forbidden':
      return new ForbiddenError(message);
    case 'quota_exceeded':
      return new QuotaExceededError(message, retryAfterMs);
    case 'unavailable':
      return new UnavailableError(message);
    case 'timeout':
      return new TimeoutError(message);
    case 'cancelled':
      return new CancelledError(message);
    case 'internal':
      return new InternalError(message);
  }
}

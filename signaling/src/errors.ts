/**
 * The signaling node's error classes. Retryability is decided once, in each constructor; how a
 * class travels on the wire (WebSocket error frame, close code, HTTP status) is decided in one
 * place, closeCodes.ts. No file imports node-only modules here: the browser bundle shares it.
 */
const SIGNALING_ERROR = Symbol.for('polyglot.SignalingError');

export class SignalingError extends Error {
  readonly retryable: boolean;
  readonly [SIGNALING_ERROR] = true;

  constructor(message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.retryable = opts.retryable;
  }

  /** Brand check that survives duplicate copies of this module, where instanceof fails. */
  static is(err: unknown): err is SignalingError {
    return typeof err === 'object' && err !== null && SIGNALING_ERROR in err;
  }
}

/** Why a message or request was refused; each reason is its own error-frame code. */
export type InvalidArgumentReason = 'bad_json' | 'unknown_type' | 'invalid_message' | 'message_too_large' | 'invalid_token';

/** A payload we cannot use. The socket stays open: the client can send a correct one. */
export class InvalidArgumentError extends SignalingError {
  readonly reason: InvalidArgumentReason;

  constructor(message: string, reason: InvalidArgumentReason, cause?: unknown) {
    super(message, { retryable: false, cause });
    this.reason = reason;
  }
}

/** Why a token was refused (a metrics label, and the close reason the client sees). */
export type UnauthenticatedReason = 'missing' | 'timeout' | 'malformed' | 'bad_signature' | 'expired' | 'claims' | 'not_first';

/** No valid token: a socket closes with 4401, an HTTP request gets 401. */
export class UnauthenticatedError extends SignalingError {
  readonly reason: UnauthenticatedReason;

  constructor(message: string, reason: UnauthenticatedReason, cause?: unknown) {
    super(message, { retryable: false, cause });
    this.reason = reason;
  }
}

/** The token's role may not do this (a viewer producing, a viewer starting a session). */
export class ForbiddenError extends SignalingError {
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/** A refresh token whose sub, org, session or role differs from the socket's. */
export class RefreshMismatchError extends ForbiddenError {}

/**
 * The token's organization does not own the session it names. A socket closes with 4403; over
 * HTTP the answer is 404, so a caller cannot learn which ids exist in other organizations.
 */
export class OtherOrganizationError extends SignalingError {
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/** No such session (or transport, producer, consumer). */
export class NotFoundError extends SignalingError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: false, cause });
  }
}

/** The call does not fit the current state (media before join, starting an ended session). */
export class InvalidStateError extends SignalingError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: false, cause });
  }
}

/** The session has ended: sockets close with 4410 and do not reconnect. */
export class SessionEndedError extends InvalidStateError {}

/** A message was dropped by the rate limiter; send again after retryAfterMs. */
export class QuotaExceededError extends SignalingError {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number) {
    super(message, { retryable: true });
    this.retryAfterMs = retryAfterMs;
  }
}

/** The socket kept sending after being rate-limited: it is closed with 4429. */
export class FloodError extends SignalingError {
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/** The socket reads its messages more slowly than we produce them: it is cut off (4408, resume). */
export class SlowConsumerError extends SignalingError {
  constructor(message: string) {
    super(message, { retryable: true });
  }
}

/** A dependency (SFU, JWKS endpoint, database) is unavailable or timed out, or we are draining. */
export class UnavailableError extends SignalingError {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, cause?: unknown) {
    super(message, { retryable: true, cause });
    this.retryAfterMs = retryAfterMs;
  }
}

/** A bug, or a dependency's answer we cannot use. The message is safe to show; the cause is logged. */
export class InternalError extends SignalingError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: false, cause });
  }
}

/** HTTP only: the path exists, the method does not (405 with an Allow header). */
export class MethodNotAllowedError extends SignalingError {
  readonly allow: readonly string[];

  constructor(message: string, allow: readonly string[]) {
    super(message, { retryable: false });
    this.allow = allow;
  }
}

/** HTTP only: a request body that is not application/json (415). */
export class UnsupportedMediaTypeError extends SignalingError {
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/**
 * The signaling node's own error classes, on core's hierarchy (core/src/errors.ts). Where core's
 * class means the same (NotFoundError, InvalidStateError, ForbiddenError, QuotaExceededError,
 * InternalError, ...) signaling uses it directly; the classes here add what only signaling needs
 * (a reason, a retry hint, a close code of their own). How a class travels on the wire (WebSocket
 * error frame, close code, HTTP status) is decided in one place, closeCodes.ts. No node-only
 * imports: the browser bundle shares this file.
 */
import {
  ForbiddenError,
  InvalidArgumentError,
  InvalidStateError,
  PolyglotError,
  QuotaExceededError,
  UnauthenticatedError,
  UnavailableError,
} from '../../core/src/errors.js';

/** Why a message or request was refused; each reason is its own error-frame code. */
export type BadRequestReason = 'bad_json' | 'unknown_type' | 'invalid_message' | 'message_too_large' | 'invalid_token';

/** A payload we cannot use. The socket stays open: the client can send a correct one. */
export class BadRequestError extends InvalidArgumentError {
  readonly reason: BadRequestReason;

  constructor(message: string, reason: BadRequestReason, cause?: unknown) {
    super(message, cause);
    this.reason = reason;
  }
}

/** Why a token was refused (a metrics label, and the close reason the client sees). */
export type TokenRefusedReason = 'missing' | 'timeout' | 'malformed' | 'bad_signature' | 'expired' | 'claims' | 'not_first';

/** No valid token: a socket closes with 4401, an HTTP request gets 401. */
export class TokenRefusedError extends UnauthenticatedError {
  readonly reason: TokenRefusedReason;

  constructor(message: string, reason: TokenRefusedReason, cause?: unknown) {
    super(message, cause);
    this.reason = reason;
  }
}

/** A refresh token whose sub, org, session or role differs from the socket's. */
export class RefreshMismatchError extends ForbiddenError {}

/**
 * The token's organization does not own the session it names. A socket closes with 4403; over
 * HTTP the answer is 404, so a caller cannot learn which ids exist in other organizations.
 */
export class OtherOrganizationError extends ForbiddenError {}

/** The session has ended: sockets close with 4410 and do not reconnect. */
export class SessionEndedError extends InvalidStateError {}

/** The socket kept sending after being rate-limited: it is closed with 4429. */
export class FloodError extends PolyglotError {
  constructor(message: string) {
    super(message, { code: 'quota_exceeded', retryable: false });
  }
}

/**
 * The SFU refused a transport or consumer: a per-peer, per-session or per-node media bound
 * (error frame `media_limit`). Distinct from `rate_limited`, which is about this socket's messages.
 */
export class MediaLimitError extends QuotaExceededError {}

/** The socket reads its messages more slowly than we produce them: it is cut off (4408, resume). */
export class SlowConsumerError extends PolyglotError {
  constructor(message: string) {
    super(message, { code: 'timeout', retryable: true });
  }
}

/** A dependency (SFU, JWKS endpoint, database) is unavailable or timed out, with a retry hint. */
export class TryAgainLaterError extends UnavailableError {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, cause?: unknown) {
    super(message, cause);
    this.retryAfterMs = retryAfterMs;
  }
}

/** HTTP only: the path exists, the method does not (405 with an Allow header). */
export class MethodNotAllowedError extends InvalidArgumentError {
  readonly allow: readonly string[];

  constructor(message: string, allow: readonly string[]) {
    super(message);
    this.allow = allow;
  }
}

/** HTTP only: a request body that is not application/json (415). */
export class UnsupportedMediaTypeError extends InvalidArgumentError {}

/** Why a caption language was refused (each reason is its own error-frame code). */
export type LanguageRefusedReason = 'unsupported_language' | 'language_limit';

/** A caption language this deployment does not serve, or one more than the session may have. The socket keeps its language. */
export class LanguageRefusedError extends InvalidArgumentError {
  readonly reason: LanguageRefusedReason;

  constructor(message: string, reason: LanguageRefusedReason) {
    super(message);
    this.reason = reason;
  }
}

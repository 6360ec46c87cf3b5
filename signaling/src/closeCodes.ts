import {
  ForbiddenError,
  InternalError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  PolyglotError,
  QuotaExceededError,
  TimeoutError,
  UnauthenticatedError,
  UnavailableError,
} from '../../core/src/errors.js';
import {
  BadRequestError,
  FloodError,
  MediaLimitError,
  LanguageRefusedError,
  MethodNotAllowedError,
  OtherOrganizationError,
  RefreshMismatchError,
  SessionEndedError,
  SlowConsumerError,
  TryAgainLaterError,
  UnsupportedMediaTypeError,
} from './errors.js';

/**
 * The one place where error classes meet the wire: WebSocket close codes, error-frame codes and
 * HTTP statuses (docs/protocol.md lists them for clients). SFU errors that come back over NATS are
 * turned into our classes here too, so the rest of the node branches on one family.
 */

/** WebSocket close codes: 4000 + the HTTP status they correspond to, or the RFC 6455 codes. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  MessageTooBig: 1009,
  InternalError: 1011,
  TryAgainLater: 1013,
  Unauthenticated: 4401,
  /**
   * The client read too slowly (captions piled up, or over 1 MiB unread): reconnect after a short
   * jittered delay and resume with each language's last seq (setLanguage afterSeq). 408: the
   * client did not take what it was sent in time.
   */
  SlowConsumer: 4408,
  Forbidden: 4403,
  SessionNotFound: 4404,
  SessionEnded: 4410,
  TooManyMessages: 4429,
} as const;
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Close codes after which a client must not reconnect by itself: a new token (or a new session) is
 * needed first. Every other close is worth a reconnect with backoff.
 */
export const TERMINAL_CLOSE_CODES: readonly number[] = [
  CloseCode.Unauthenticated,
  CloseCode.Forbidden,
  CloseCode.SessionNotFound,
  CloseCode.SessionEnded,
];

/** Error-frame codes (`{type:'error', code}`); the socket stays open after each. */
export const ERROR_FRAME_CODES = [
  'bad_json',
  'unknown_type',
  'invalid_message',
  'message_too_large',
  'invalid_token',
  'forbidden',
  'refresh_mismatch',
  'not_found',
  'invalid_state',
  'unsupported_language',
  'language_limit',
  'rate_limited',
  'media_limit',
  'unavailable',
  'internal',
] as const;
export type ErrorFrameCode = (typeof ERROR_FRAME_CODES)[number];

/**
 * Retry hint when the error carries none, as from an SFU that is gone or slow: placement answers
 * again within a couple of seconds.
 */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/**
 * Any thrown value as one of the platform's classes; unknowns are internal. Errors from the SFU
 * arrive over NATS already as core's classes (core/src/sfu/SfuClient.ts).
 */
function toPolyglotError(err: unknown): PolyglotError {
  if (PolyglotError.is(err)) return err;
  return new InternalError('internal error', err);
}

/** When a client may try again after an unavailable dependency. */
function retryAfterMsOf(e: UnavailableError | TimeoutError): number {
  return e instanceof TryAgainLaterError ? e.retryAfterMs : DEFAULT_RETRY_AFTER_MS;
}

/**
 * What a client is told when a dependency failed: the error's own message names NATS subjects,
 * SFU node ids and timeouts, which stay in our logs.
 */
const UNAVAILABLE_MESSAGE = 'a service this request needs is unavailable; try again shortly';
const NO_SUCH_SESSION = 'no such session';

/** A dependency's error, whose message is ours to log and not the client's to read. */
function hidesDetail(e: PolyglotError): boolean {
  return (e instanceof UnavailableError || e instanceof TimeoutError) && !(e instanceof TryAgainLaterError);
}

/**
 * `serverFault`: our own failure (a bug, an answer we cannot use), worth a stack trace in the log.
 * `detailHidden`: the client got a generic message; the caller logs the error for the operator.
 */
export type SocketFailure =
  | { kind: 'close'; code: CloseCodeValue; reason: string; serverFault: boolean; detailHidden: boolean }
  | { kind: 'frame'; code: ErrorFrameCode; message: string; retryAfterMs?: number; serverFault: boolean; detailHidden: boolean };

/**
 * What a socket gets for an error. While authenticating (`phase: 'auth'`) every failure closes the
 * socket: nothing else may happen on a socket that has no valid token. Once open, most failures are
 * an error frame and the socket stays usable.
 */
export function socketFailureFor(err: unknown, phase: 'auth' | 'open'): SocketFailure {
  const e = toPolyglotError(err);
  const hidden = hidesDetail(e);
  const message = hidden ? UNAVAILABLE_MESSAGE : e.message;
  const close = (code: CloseCodeValue): SocketFailure => ({ kind: 'close', code, reason: closeReason(message), serverFault: code === CloseCode.InternalError, detailHidden: hidden });
  // Another organization's session is answered exactly as one that does not exist (as over HTTP).
  if (e instanceof OtherOrganizationError) return { kind: 'close', code: CloseCode.SessionNotFound, reason: NO_SUCH_SESSION, serverFault: false, detailHidden: false };
  if (e instanceof UnauthenticatedError) return close(CloseCode.Unauthenticated);
  if (e instanceof SessionEndedError) return close(CloseCode.SessionEnded);
  if (e instanceof FloodError) return close(CloseCode.TooManyMessages);
  if (e instanceof SlowConsumerError) return close(CloseCode.SlowConsumer);
  if (phase === 'auth') {
    if (e instanceof ForbiddenError) return close(CloseCode.Forbidden);
    if (e instanceof NotFoundError) return close(CloseCode.SessionNotFound);
    if (e instanceof InvalidArgumentError) return close(CloseCode.Unauthenticated);
    if (e instanceof UnavailableError || e instanceof TimeoutError) return close(CloseCode.TryAgainLater);
    if (e instanceof QuotaExceededError) return close(CloseCode.TooManyMessages);
    return close(CloseCode.InternalError);
  }
  const frame = (code: ErrorFrameCode, retryAfterMs?: number): SocketFailure =>
    retryAfterMs === undefined
      ? { kind: 'frame', code, message, serverFault: false, detailHidden: hidden }
      : { kind: 'frame', code, message, retryAfterMs, serverFault: false, detailHidden: hidden };
  if (e instanceof BadRequestError) return frame(e.reason);
  if (e instanceof LanguageRefusedError) return frame(e.reason);
  if (e instanceof InvalidArgumentError) return frame('invalid_message');
  if (e instanceof RefreshMismatchError) return frame('refresh_mismatch');
  if (e instanceof ForbiddenError) return frame('forbidden');
  if (e instanceof NotFoundError) return frame('not_found');
  if (e instanceof InvalidStateError) return frame('invalid_state');
  if (e instanceof MediaLimitError) return frame('media_limit', e.retryAfterMs);
  if (e instanceof QuotaExceededError) return frame('rate_limited', e.retryAfterMs);
  if (e instanceof UnavailableError || e instanceof TimeoutError) return frame('unavailable', retryAfterMsOf(e));
  return { kind: 'frame', code: 'internal', message: 'internal error', serverFault: true, detailHidden: true };
}

// RFC 6455: the close reason is at most 123 bytes of UTF-8.
function closeReason(message: string): string {
  const bytes = new TextEncoder().encode(message);
  if (bytes.length <= 123) return message;
  return new TextDecoder().decode(bytes.subarray(0, 120)).replace(/\uFFFD$/, '') + '...';
}

export interface HttpFailure {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
  /** The client got a generic message; the caller logs the error for the operator. */
  detailHidden: boolean;
}

/** What a REST request gets for an error: `{error:{code,message}}` with this status and headers. */
export function httpFailureFor(err: unknown): HttpFailure {
  const e = toPolyglotError(err);
  const hidden = hidesDetail(e);
  const fail = (status: number, code: string, headers: Record<string, string> = {}): HttpFailure => ({
    status,
    code,
    message: hidden ? UNAVAILABLE_MESSAGE : e.message,
    headers,
    detailHidden: hidden,
  });
  const retryAfter = (ms: number): Record<string, string> => ({ 'retry-after': String(Math.ceil(ms / 1000)) });
  if (e instanceof MethodNotAllowedError) return fail(405, 'method_not_allowed', { allow: e.allow.join(', ') });
  if (e instanceof UnsupportedMediaTypeError) return fail(415, 'unsupported_media_type');
  if (e instanceof BadRequestError && e.reason === 'message_too_large') return fail(413, 'payload_too_large');
  if (e instanceof BadRequestError && e.reason === 'bad_json') return fail(400, 'bad_json');
  if (e instanceof InvalidArgumentError) return fail(400, 'invalid_request');
  if (e instanceof UnauthenticatedError) return fail(401, 'unauthenticated', { 'www-authenticate': 'Bearer' });
  // Another organization's session is indistinguishable from one that does not exist.
  if (e instanceof OtherOrganizationError) return { status: 404, code: 'not_found', message: NO_SUCH_SESSION, headers: {}, detailHidden: false };
  if (e instanceof ForbiddenError) return fail(403, 'forbidden');
  if (e instanceof NotFoundError) return fail(404, 'not_found');
  if (e instanceof SessionEndedError) return fail(409, 'session_ended');
  if (e instanceof InvalidStateError) return fail(409, 'invalid_state');
  if (e instanceof QuotaExceededError) return fail(429, 'rate_limited', retryAfter(e.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS));
  if (e instanceof UnavailableError || e instanceof TimeoutError) return fail(503, 'unavailable', retryAfter(retryAfterMsOf(e)));
  return { status: 500, code: 'internal', message: 'internal error', headers: {}, detailHidden: true };
}

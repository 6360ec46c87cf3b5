import {
  ArgumentError,
  AuthorizationError,
  ConnectionError,
  DeepLError,
  GlossaryNotFoundError,
  QuotaExceededError as DeepLQuotaExceededError,
  TooManyRequestsError,
} from 'deepl-node';
import {
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PolyglotError,
  QuotaExceededError,
  TimeoutError,
  UnavailableError,
} from '../../sdk/src/index.js';

// deepl-node turns most HTTP statuses into a plain DeepLError and keeps the status only in the
// message ("Bad request, ...", "Unexpected status code: 502 Bad Gateway, ..."); these are its
// message prefixes (translator.js checkStatusCode), the only place the status survives.
const UNEXPECTED_STATUS = /^Unexpected status code: (\d{3})/;

/**
 * The one place DeepL failures become SDK error classes (STYLE §4):
 * 429 and 456 (quota for the billing period) -> QuotaExceededError, 5xx and connection failures ->
 * UnavailableError (timeouts -> TimeoutError), 400/4xx -> InvalidArgumentError, 404 ->
 * NotFoundError, 403 -> a non-retryable error: a wrong key stays wrong however often we retry.
 */
export function fromDeepLError(err: unknown, what: string): PolyglotError {
  if (PolyglotError.is(err)) return err;
  const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  if (err instanceof AuthorizationError) return new InternalError(`${message} (check PC_DEEPL_AUTH_KEY)`, err);
  if (err instanceof TooManyRequestsError || err instanceof DeepLQuotaExceededError) return new QuotaExceededError(message, undefined, err);
  if (err instanceof GlossaryNotFoundError) return new NotFoundError(message, err);
  if (err instanceof ConnectionError) {
    const code = err.error === undefined ? undefined : Reflect.get(err.error, 'code');
    return code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? new TimeoutError(message, err) : new UnavailableError(message, err);
  }
  if (err instanceof ArgumentError) return new InvalidArgumentError(message, err);
  if (err instanceof DeepLError) {
    if (err.message.startsWith('Service unavailable')) return new UnavailableError(message, err);
    if (err.message.startsWith('Not found')) return new NotFoundError(message, err);
    if (err.message.startsWith('Bad request')) return new InvalidArgumentError(message, err);
    if (err.message.startsWith('Error parsing response JSON')) return new InternalError(message, err);
    const statusMatch = UNEXPECTED_STATUS.exec(err.message);
    if (statusMatch === null) {
      // deepl-node's own validation ("targetLang='en' is deprecated", empty texts): the request is wrong.
      return new InvalidArgumentError(message, err);
    }
    const status = Number(statusMatch[1]);
    if (status === 408 || status === 504) return new TimeoutError(message, err);
    if (status >= 500) return new UnavailableError(message, err);
    if (status >= 400) return new InvalidArgumentError(message, err);
  }
  return new InternalError(message, err);
}
